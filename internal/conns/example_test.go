package conns_test

import (
	"fmt"
	"net"

	"github.com/kmsload/kmsload/internal/conns"
)

func ExampleCounter() {
	c := conns.NewCounter(128)
	a, b := net.Pipe()
	defer b.Close()
	conn := c.Track(a) // as a dial function returns it
	fmt.Println("open", c.Open(), "peak", c.Peak())
	conn.Close()
	fmt.Println("open", c.Open(), "peak", c.Peak(), "cap", c.Max())
	// Output:
	// open 1 peak 1
	// open 0 peak 1 cap 128
}
