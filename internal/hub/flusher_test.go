package hub

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestFlusher: the writer starts only once open (or closing), one at a
// time, exits when Idle finds nothing queued, starts again on the next
// Kick, and never once Done.
func TestFlusher(t *testing.T) {
	var queued, closing atomic.Bool
	runs := make(chan struct{}, 10)
	var f *Flusher
	f = &Flusher{
		Run: func() {
			runs <- struct{}{}
			for !f.Idle() {
				queued.Store(false) // "writes" what came
			}
		},
		Closing: closing.Load,
		Empty:   func() bool { return !queued.Load() },
	}
	waitIdle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.Running() {
			if time.Now().After(deadline) {
				t.Fatal("the writer still runs 10s after the queue emptied")
			}
			time.Sleep(time.Millisecond)
		}
	}
	queued.Store(true)
	f.Kick()
	if len(runs) != 0 || f.Running() {
		t.Fatal("the writer started before Open")
	}
	f.Open()
	<-runs
	waitIdle()
	if queued.Load() {
		t.Error("the writer returned with a frame queued")
	}
	queued.Store(true)
	f.Kick()
	<-runs
	waitIdle()
	f.Done()
	closing.Store(true)
	f.Kick()
	time.Sleep(10 * time.Millisecond)
	if len(runs) != 0 || f.Running() {
		t.Error("a writer started after Done")
	}
}

// TestFlusherClosingBeforeOpen: a session closing before it was opened
// gets a writer, to write its close frame.
func TestFlusherClosingBeforeOpen(t *testing.T) {
	done := make(chan struct{})
	f := &Flusher{Run: func() { close(done) }, Closing: func() bool { return true }, Empty: func() bool { return true }}
	f.Kick()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no writer for a closing session that was never opened")
	}
}
