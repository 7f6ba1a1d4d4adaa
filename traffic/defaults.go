package traffic

import "time"

// Defaults of a workload's client side, the same in a run and a
// simulation.
const (
	// DefaultDrainTimeout is how long in-flight requests are waited for
	// after arrivals stop; those still in flight then are cancelled.
	DefaultDrainTimeout = 5 * time.Second
)
