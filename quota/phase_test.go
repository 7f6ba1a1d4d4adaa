package quota_test

import (
	"testing"
	"time"

	"github.com/kmsload/kmsload/quota"
)

func TestWindowPhase(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want quota.WindowPhase
		bad  bool
	}{
		{"", quota.WindowPhase{}, false},
		{"random", quota.WindowPhase{}, false},
		{"aligned", quota.WindowPhase{Fixed: true}, false},
		{"250ms", quota.WindowPhase{Fixed: true, Offset: 250 * time.Millisecond}, false},
		{"0.5", quota.WindowPhase{Fixed: true, Offset: 500 * time.Millisecond}, false},
		{"0", quota.WindowPhase{Fixed: true}, false},
		{"1s", quota.WindowPhase{}, true},
		{"-1ms", quota.WindowPhase{}, true},
		{"soon", quota.WindowPhase{}, true},
	} {
		got, err := quota.ParseWindowPhase(tt.in)
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("ParseWindowPhase(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
	p := quota.WindowPhase{Fixed: true, Offset: 250 * time.Millisecond}
	t0 := time.Unix(1_800_000_000, int64(600*time.Millisecond))
	if got := p.Next(t0); !got.Equal(time.Unix(1_800_000_001, int64(250*time.Millisecond))) || quota.OffsetOf(got) != 250*time.Millisecond {
		t.Errorf("Next(%v) = %v; want the next instant 250ms into a second", t0, got)
	}
	if got := p.Next(time.Unix(1_800_000_000, int64(100*time.Millisecond))); !got.Equal(time.Unix(1_800_000_000, int64(250*time.Millisecond))) {
		t.Errorf("Next(100ms into a second) = %v; want 250ms into the same second", got)
	}
	r := quota.WindowPhase{}
	if !r.Next(t0).Equal(t0) || r.Draw(7) != r.Draw(7) || r.Draw(7) == r.Draw(8) || r.Draw(7) >= time.Second || p.Draw(7) != p.Offset {
		t.Errorf("random phase: Next, Draw(7) = %v, %v, Draw(8) = %v; want t, one seeded offset per seed under 1s", r.Next(t0), r.Draw(7), r.Draw(8))
	}
}
