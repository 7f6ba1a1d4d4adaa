package driver

import (
	"time"

	"github.com/kmsload/kmsload/report"
)

// SetWarmTimeout sets the warm-up wait for a test and restores it when
// the returned function is called.
func SetWarmTimeout(d time.Duration) (restore func()) {
	old := warmTimeout
	warmTimeout = d
	return func() { warmTimeout = old }
}

// TargetInfo is what Run records in Results.Target.
func (d *Driver) TargetInfo() report.TargetInfo { return d.targetInfo() }
