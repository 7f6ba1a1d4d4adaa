package driver

import "time"

// SetWarmTimeout sets the warm-up wait for a test and restores it when
// the returned function is called.
func SetWarmTimeout(d time.Duration) (restore func()) {
	old := warmTimeout
	warmTimeout = d
	return func() { warmTimeout = old }
}
