package traffic_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

func TestShiftRegions(t *testing.T) {
	shift := func(w, to string) scenario.Event {
		return scenario.Event{At: time.Second, Action: scenario.ActionShiftTraffic, Workload: w, ToRegion: to}
	}
	tests := []struct {
		name    string
		events  []scenario.Event
		want    map[string][]string
		wantErr string // a part of the error; "" = none
	}{
		{"none", nil, map[string][]string{}, ""},
		{"key event", []scenario.Event{{Action: scenario.ActionDisableKey, Key: "k"}}, map[string][]string{}, ""},
		{"shifts in order", []scenario.Event{shift("a", "eu-west-1"), shift("b", "us-west-2"), shift("a", "us-east-1")},
			map[string][]string{"a": {"eu-west-1", "us-east-1"}, "b": {"us-west-2"}}, ""},
		{"unknown key", []scenario.Event{{Action: scenario.ActionDisableKey, Key: "nope"}}, nil, `unknown key "nope"`},
		{"unknown workload", []scenario.Event{shift("c", "eu-west-1")}, nil, `unknown workload "c"`},
		{"no region", []scenario.Event{shift("a", "")}, nil, "no to_region"},
	}
	for _, tt := range tests {
		sc := &scenario.Scenario{
			Keys:      map[string]scenario.Key{"k": {}},
			Workloads: []scenario.Workload{{Name: "a"}, {Name: "b"}},
			Events:    tt.events,
		}
		got, err := traffic.ShiftRegions(sc)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: ShiftRegions error = %v; want one saying %s", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !maps.EqualFunc(got, tt.want, slices.Equal[[]string]) {
			t.Errorf("%s: ShiftRegions = %v, %v; want %v, nil", tt.name, got, err, tt.want)
		}
	}
}
