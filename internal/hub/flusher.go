package hub

import "sync"

// Flusher starts a session's writer on demand, as both transports'
// sessions (ws, msync) do, so that an idle session has no goroutine but
// its read loop. At most one writer runs at a time; none starts before
// the session is open unless it is closing (to write the close frame),
// and none once the close is done.
//
// The writer (Run, on a goroutine of its own) writes what is queued until
// the queue is empty, then calls Idle: when Idle returns true it must
// return at once, and the next Kick starts another. A session kicks the
// flusher when it queues into an empty queue, and when it begins to close.
//
// Try, when set, is the writer's first attempt, made by Kick in the
// kicker's own goroutine: it writes what it can without waiting (a socket
// with room takes a reply or a push at once) and returns true when it
// wrote everything and Idle returned true; false hands on to Run, on a
// goroutine, which must then write what Try left first. Starting a
// goroutine for every frame cost more than the write itself.
type Flusher struct {
	Run     func()      // the writer
	Try     func() bool // optional: the writer's attempt that never waits
	Closing func() bool // whether the session is closing
	Empty   func() bool // whether nothing is queued

	mu       sync.Mutex
	running  bool
	open     bool
	finished bool
}

// Open lets the writer start: nothing is written before (the session's
// first frame is its login's answer).
func (f *Flusher) Open() {
	f.mu.Lock()
	f.open = true
	f.mu.Unlock()
	f.Kick()
}

// Kick starts the writer unless one runs, the close is done, or there is
// nothing it may do yet (not open and not closing).
func (f *Flusher) Kick() {
	f.mu.Lock()
	if f.running || f.finished || !(f.open || f.Closing()) {
		f.mu.Unlock()
		return
	}
	f.running = true
	f.mu.Unlock()
	if f.Try != nil && f.Try() {
		return
	}
	go f.Run()
}

// Idle is the writer's question once it found nothing to write: true
// means the queue is still empty and the session not closing, and the
// writer must return; false, that something came meanwhile, which it must
// handle. Deciding under the lock that Kick takes is what keeps a frame
// queued just then from being left behind: its Kick either sees the
// writer still running (and Idle then sees the frame) or starts another.
func (f *Flusher) Idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Empty() && !f.Closing() {
		f.running = false
		return true
	}
	return false
}

// Done marks the close done: no writer starts again.
func (f *Flusher) Done() {
	f.mu.Lock()
	f.finished = true
	f.mu.Unlock()
}

// Running reports whether a writer runs.
func (f *Flusher) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}
