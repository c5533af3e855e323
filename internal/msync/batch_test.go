package msync

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// recorder is a transport that records each Write call's frames.
type recorder struct {
	mu     sync.Mutex
	writes [][]string
	closed []int
	wrote  chan struct{} // if set, signalled after each Write
	// If set, each Write sends its frame count on started, then waits
	// for hold to be closed: a peer that does not read.
	started chan int
	hold    chan struct{}
}

func (r *recorder) Read(time.Duration) ([]byte, error) { return nil, fmt.Errorf("not read") }
func (r *recorder) Ping(context.Context) error         { return nil }
func (r *recorder) CloseNow() error                    { return nil }

// TryWrite takes nothing: every frame goes through Write, as batches.
func (r *recorder) TryWrite(time.Duration, ...[]byte) (int, bool, error) { return 0, false, nil }

func (r *recorder) Write(_ time.Duration, frames ...[]byte) (int, error) {
	if r.started != nil {
		r.started <- len(frames)
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var w []string
	for _, f := range frames {
		w = append(w, string(f))
	}
	r.writes = append(r.writes, w)
	if r.wrote != nil {
		r.wrote <- struct{}{}
	}
	return len(frames), nil
}

func (r *recorder) Close(code int, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = append(r.closed, code)
	return nil
}

// TestFlusherBatches: with a flushing close, the flusher writes every
// frame queued in one Write, in queue order, before the close frame.
func TestFlusherBatches(t *testing.T) {
	srv := &Server{cfg: Config{AppKey: "seen#demo"}.withDefaults(), log: slog.New(slog.DiscardHandler)}
	r := &recorder{}
	s := newSession(srv, r, "m1")
	const n = 100
	for i := range n {
		s.send(fmt.Appendf(nil, "f%d", i))
	}
	s.close(closeNormal, "logout", true) // before the session is open: the close flushes
	<-s.writeDone
	var got []string
	for _, w := range r.writes {
		got = append(got, w...)
	}
	if len(r.writes) != 1 {
		t.Errorf("%d frames queued: %d Write calls, want 1", n, len(r.writes))
	}
	for i := range n {
		if i >= len(got) || got[i] != fmt.Sprint("f", i) {
			t.Fatalf("frames written = %v, want f0..f%d in order", got, n-1)
		}
	}
	if len(r.closed) != 1 || r.closed[0] != closeNormal {
		t.Errorf("Close calls = %v, want one with %d", r.closed, closeNormal)
	}
	if s.outBytes.Load() != 0 {
		t.Errorf("queued bytes after the flush = %d, want 0", s.outBytes.Load())
	}
}

// TestFlusherOneWrite: frames queued before the session opens go out in
// one Write.
func TestFlusherOneWrite(t *testing.T) {
	srv := &Server{cfg: Config{AppKey: "seen#demo"}.withDefaults(), log: slog.New(slog.DiscardHandler)}
	r := &recorder{wrote: make(chan struct{}, 1)}
	s := newSession(srv, r, "m1")
	for i := range 3 {
		s.send(fmt.Appendf(nil, "f%d", i))
	}
	s.open()
	<-r.wrote
	s.close(closeNormal, "", false)
	<-s.writeDone
	if len(r.writes) != 1 || fmt.Sprint(r.writes[0]) != "[f0 f1 f2]" {
		t.Errorf("Write calls = %v, want one of [f0 f1 f2]", r.writes)
	}
}

// TestSendQueueCountsBatchBeingWritten: the frames the flusher took
// for a Write that has not returned still count against SendQueue and
// SendQueueBytes, so that a client that does not read is closed with
// 4009 once it would hold more than either; once the Write returns,
// they no longer count.
func TestSendQueueCountsBatchBeingWritten(t *testing.T) {
	for _, c := range []struct {
		name          string
		frames, bytes int
		size          int
		fits          int // frames that fit besides the one being written
	}{
		{"frames", 8, 1 << 20, 10, 7},
		{"bytes", 1 << 20, 4 << 10, 1000, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{AppKey: "seen#demo", MaxFrameBytes: 1 << 10, SendQueue: c.frames, SendQueueBytes: c.bytes}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			srv := &Server{cfg: cfg.withDefaults(), log: slog.New(slog.DiscardHandler)}
			r := &recorder{started: make(chan int, 1), hold: make(chan struct{})}
			s := newSession(srv, r, "m1")
			s.open()
			frame := make([]byte, c.size)
			s.send(frame)
			if n := <-r.started; n != 1 {
				t.Fatalf("first Write of %d frames, want 1", n)
			}
			// One frame is being written and held by a peer that does
			// not read: the queue takes only what is left of the bounds.
			for i := range c.fits {
				s.send(frame)
				if s.isClosing() {
					t.Fatalf("closed after %d frames besides the one being written, want %d to fit", i+1, c.fits)
				}
			}
			if got := s.queueLen(); got != c.fits+1 {
				t.Errorf("frames held = %d, want %d", got, c.fits+1)
			}
			if got, want := s.outBytes.Load(), int64((c.fits+1)*c.size); got != want {
				t.Errorf("bytes held = %d, want %d", got, want)
			}
			s.send(frame)
			if !s.isClosing() {
				t.Fatalf("%d frames held with the one being written: session open, want 4009 (SendQueue %d, SendQueueBytes %d)",
					c.fits+2, c.frames, c.bytes)
			}
			close(r.hold)
			<-s.writeDone
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.closed) != 1 || r.closed[0] != closeSlowConsumer {
				t.Errorf("Close calls = %v, want one with %d", r.closed, closeSlowConsumer)
			}
			// The Write returned: its frame no longer counts, nor do
			// those of a batch the flusher may have written before it saw
			// the close; the rest of the queue (not flushed on a slow
			// consumer) and the refused frame's bytes still do.
			written := 0
			for _, w := range r.writes {
				written += len(w)
			}
			if got, want := s.queueLen(), c.fits+1-written; got != want {
				t.Errorf("frames held after %d written = %d, want %d", written, got, want)
			}
			if got, want := s.outBytes.Load(), int64((c.fits+2-written)*c.size); got != want {
				t.Errorf("bytes held after %d frames written = %d, want %d", written, got, want)
			}
		})
	}
}

// TestFlusherExitsWhenIdle: once the queue is empty the flusher exits (an
// idle session has no goroutine but its read loop), and the next frame
// starts another, which writes it.
func TestFlusherExitsWhenIdle(t *testing.T) {
	srv := &Server{cfg: Config{AppKey: "seen#demo"}.withDefaults(), log: slog.New(slog.DiscardHandler)}
	r := &recorder{wrote: make(chan struct{}, 1)}
	s := newSession(srv, r, "m1")
	s.open()
	flushing := s.flusher.Running
	for i := range 3 {
		s.send(fmt.Appendf(nil, "f%d", i))
		<-r.wrote
		deadline := time.Now().Add(10 * time.Second)
		for flushing() {
			if time.Now().After(deadline) {
				t.Fatalf("frame %d written, and the flusher still runs after 10s with nothing queued", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	s.close(closeNormal, "", false)
	<-s.writeDone
	if fmt.Sprint(r.writes) != "[[f0] [f1] [f2]]" {
		t.Errorf("Write calls = %v, want [f0], [f1], [f2]", r.writes)
	}
	if len(r.closed) != 1 || r.closed[0] != closeNormal {
		t.Errorf("Close calls = %v, want one with %d", r.closed, closeNormal)
	}
}
