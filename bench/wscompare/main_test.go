package main

import (
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary be the server child too.
func TestMain(m *testing.M) {
	for _, a := range os.Args[1:] {
		if a == "-serve" {
			main()
			return
		}
	}
	os.Exit(m.Run())
}

// TestServers checks every server against the load client: auth, pipelined
// acks each answered by a reply, and the periodic push to the first conn.
func TestServers(t *testing.T) {
	for _, lib := range libs {
		t.Run(lib, func(t *testing.T) {
			s, err := startServer(lib, true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.stop()
			cs, err := dialAll(s.addr, 3)
			defer closeAll(cs)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if _, err := c.acks(20, 4); err != nil {
					t.Fatal(err)
				}
			}
			cs[0].c.SetDeadline(time.Now().Add(5 * time.Second))
			if k, err := cs[0].recv(); err != nil || k != 'o' {
				t.Fatalf("sender got %q, %v; want a push", k, err)
			}
			cs[1].c.SetDeadline(time.Now().Add(300 * time.Millisecond))
			if k, err := cs[1].recv(); err == nil {
				t.Fatalf("conn 1 got frame %q; only the sender gets pushes", k)
			}
		})
	}
}
