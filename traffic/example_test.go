package traffic_test

import (
	"fmt"
	"time"

	"github.com/kmsload/kmsload/traffic"
)

// Arrival offsets are absolute: arrival n of a constant 4/s process is at
// n/4 s, whatever happened to the arrivals before it.
func ExampleConstant() {
	a := traffic.Constant{Rate: 4}
	for n := int64(0); n < 5; n++ {
		at, _ := a.Next(n)
		fmt.Println(n, at)
	}
	// Output:
	// 0 0s
	// 1 250ms
	// 2 500ms
	// 3 750ms
	// 4 1s
}

// A ramp from 0 to 8/s over 1 s, then a hold at 8/s: arrival n lands
// where the integral of the rate reaches n.
func ExamplePhases() {
	p, err := traffic.NewPhases([]traffic.Phase{
		{Duration: time.Second, From: 0, To: 8},
		{Duration: time.Second, From: 8, To: 8},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	for n := int64(0); ; n++ {
		at, ok := p.Next(n)
		if !ok {
			break
		}
		fmt.Print(at.Round(time.Millisecond), " ")
	}
	fmt.Println()
	// Output:
	// phases [ramp 0/s->8/s for 1s, hold 8/s for 1s]
	// 0s 500ms 707ms 866ms 1s 1.125s 1.25s 1.375s 1.5s 1.625s 1.75s 1.875s
}
