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

// TestFlusherTry: Kick makes Try's attempt in its own goroutine; a Try
// that wrote everything leaves no writer running and starts none, one
// that could not hands on to Run, and a Kick during either starts nothing
// more.
func TestFlusherTry(t *testing.T) {
	var queued atomic.Bool
	runs := make(chan struct{}, 10)
	var tryOK atomic.Bool
	var f *Flusher
	f = &Flusher{
		Run: func() {
			runs <- struct{}{}
			for !f.Idle() {
				queued.Store(false)
			}
		},
		Try: func() bool {
			f.Kick() // a kick while the attempt runs: no second writer
			if !tryOK.Load() {
				return false
			}
			queued.Store(false)
			return f.Idle()
		},
		Closing: func() bool { return false },
		Empty:   func() bool { return !queued.Load() },
	}
	tryOK.Store(true)
	f.Open()
	queued.Store(true)
	f.Kick()
	if f.Running() || queued.Load() || len(runs) != 0 {
		t.Fatalf("after a Try that wrote it all: running %v, queued %v, runs %d", f.Running(), queued.Load(), len(runs))
	}
	tryOK.Store(false)
	queued.Store(true)
	f.Kick()
	<-runs
	deadline := time.Now().Add(10 * time.Second)
	for f.Running() {
		if time.Now().After(deadline) {
			t.Fatal("the writer still runs 10s after the queue emptied")
		}
		time.Sleep(time.Millisecond)
	}
	if queued.Load() || len(runs) != 0 {
		t.Fatalf("after a Try that handed on: queued %v, %d more runs", queued.Load(), len(runs))
	}
}
