package traffic

import "time"

// Defaults of a workload's client side, the same in a run and a
// simulation.
const (
	// DefaultDrainTimeout is how long in-flight requests are waited for
	// after arrivals stop; those still in flight then are cancelled.
	DefaultDrainTimeout = 5 * time.Second
	// DefaultMinInFlight is the smallest default in-flight bound; the
	// default is the larger of it and DefaultInFlightFactor times the
	// workload's scaled peak rate ([DefaultInFlight]).
	DefaultMinInFlight = 256
	// DefaultInFlightFactor multiplies the scaled peak rate for the default
	// in-flight bound.
	DefaultInFlightFactor = 4
)

// DefaultInFlight returns the in-flight bound of a workload that sets
// none, for its scaled peak rate in requests per second (MeanRate): the
// larger of DefaultMinInFlight and DefaultInFlightFactor x peak, rounded.
func DefaultInFlight(peak float64) int {
	return max(DefaultMinInFlight, int(DefaultInFlightFactor*peak+0.5))
}
