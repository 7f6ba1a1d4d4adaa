package traffic_test

import (
	"testing"
	"time"

	"github.com/kmsload/kmsload/traffic"
)

func TestKeyCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at      time.Duration
		refresh bool // Refresh at at instead of Use
		want    bool
	}
	tests := []struct {
		name    string
		maxAge  time.Duration
		maxUses int
		steps   []step
	}{
		{"empty misses", time.Minute, 10, []step{{0, false, false}, {time.Second, false, false}}},
		{"max uses", time.Minute, 3, []step{
			{0, true, false},                   // new key, 1 use
			{1, false, true}, {2, false, true}, // uses 2 and 3
			{3, false, false}, // exhausted
			{4, false, false}, // stays invalid until refreshed
			{5, true, false}, {6, false, true},
		}},
		{"max age", time.Second, 0, []step{
			{0, true, false},
			{999 * time.Millisecond, false, true},
			{time.Second, false, false},
		}},
		{"unbounded", 0, 0, []step{{0, true, false}, {time.Hour, false, true}, {2 * time.Hour, false, true}}},
	}
	for _, tt := range tests {
		c := traffic.NewKeyCache(tt.maxAge, tt.maxUses)
		for i, s := range tt.steps {
			if s.refresh {
				c.Refresh(t0.Add(s.at))
				continue
			}
			if got := c.Use(t0.Add(s.at)); got != s.want {
				t.Errorf("%s: step %d: Use(t0+%v) = %v; want %v", tt.name, i, s.at, got, s.want)
			}
		}
	}
}
