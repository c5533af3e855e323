package ws

// Goroutine ownership of a session.
//
// An idle session has one goroutine: no goroutine pair per connection.
//
//   - The read loop (run, on a goroutine of its own that ServeHTTP starts
//     once the connection is upgraded, so that the HTTP handler returns
//     and net/http's per-request state is garbage) reads frames,
//     authenticates the first one, applies the rate limit, decodes the
//     envelope and serves each request: receipt.ack and ping inline (the
//     ack's reply is queued by the ack batcher's goroutine when its batch
//     commits), every other op on a request worker. When it ends it tears
//     the session down: unregisters from the hub, waits for the flusher's
//     close, stops the timers, cancels the session context and waits for
//     the workers.
//   - The flusher (flush) is the only goroutine that writes data frames to
//     the transport: queued frames and the close frame. It is started on
//     demand (kick) when the send queue goes from empty to non-empty, once
//     the session is ready, or when a close is asked for, at most one at a
//     time; it writes everything queued in batches until the queue is
//     empty, then exits. A close takes precedence: it is checked before
//     each batch, and the flusher that sees it writes the close (finish)
//     and is the last.
//   - Timers (time.AfterFunc, stopped at teardown) replace tickers: the
//     auth timeout closes a session that has not authenticated; the ping
//     timer's function sends a WebSocket ping and waits for the pong on
//     the timer's goroutine (the transport serializes its control frame
//     with the data frames, so writes never stall for a round trip), then
//     re-arms; the token-check timer checks the token and re-arms. Ping and
//     token checks count as workers.
//
// Request workers are short-lived: at most MaxInflight per session (the
// read loop stops reading while that many run). Each calls the service
// with the session context and enqueues exactly one reply, so replies may
// leave out of request order.
//
// Bus handlers (internal/hub, calling Deliver) run on publishers'
// goroutines; they only filter and enqueue. Enqueueing (send) never blocks anyone: when the bounded
// queue is full (in frames, or in bytes not yet written) the session is
// closed with 4009; when the frame that does not fit is the rate limit's
// refusal, the client is flooding and the close is 4008. Anyone may call
// close; the first close wins and the flusher carries it out.
//
// Lock order: the hub's (Hub.mu, topic.mu), then session.mu, then the flusher's
// (hub.Flusher), then the send queue's mutex. session.mu guards
// only the receipt high-water marks. The user's request budget
// (hub.Budget) and tmu (the timers) are leaves.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"seen/internal/admit"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// receiptMarks is how many messages' last pushed read counts a session
// remembers.
const receiptMarks = 4096

type outFrame struct {
	b    []byte
	kind string // op of a reply, push.<name> of a push (metrics)
	// count is the message whose read count this push carries (0: not a
	// read-count push): a newer count replaces one still queued.
	count chat.MsgID
}

type session struct {
	srv  *Server
	conn transport
	id   string
	// log has session_id, and user_id once authenticated; use logger().
	log atomic.Pointer[slog.Logger]

	// ctx is the parent of every request's context; cancelled at teardown.
	ctx    context.Context
	cancel context.CancelFunc

	// Set by the read loop during auth, before authed is stored; read-only
	// afterwards.
	actor     chat.Actor
	token     string
	tokenHash []byte // chat.TokenHash(token), to match revocations
	authed    atomic.Bool

	// slot is the session's place in the node's admission (Server.admit).
	slot *admit.Slot

	queue  *sendQueue
	unsent []outFrame // taken from queue but not written (tryFlush left them, or closing began); flusher only
	pend   outFrame   // the frame tryFlush began, whose rest the transport keeps; flusher only
	msgs   [][]byte   // the payloads of the batch being written; flusher only
	batch  []outFrame // spare storage for the next batch; flusher only

	// flusher starts flushLoop on demand. It is opened once the auth
	// reply is queued and the session is registered with the hub: nothing
	// is written before, so the auth reply is always the first frame.
	flusher hub.Flusher

	closing   chan struct{}
	closed    atomic.Bool // set with closing, and cheaper to ask (isClosing is on every frame's path)
	closeOnce sync.Once
	// Set once, before closing is closed.
	closeCode   int
	closeReason string
	flush       bool          // write what is queued before the close frame
	writeDone   chan struct{} // closed when the close is done

	// The timers; stopped (timersOff) at teardown, after which no timer
	// function starts a worker.
	tmu       sync.Mutex
	timersOff bool
	authTimer *time.Timer
	pingTimer *time.Timer
	tokTimer  *time.Timer

	sem chan struct{} // request worker slots
	// stalls counts the times the read loop waited for a worker slot;
	// stalled is set while it waits for one or hands acks to the batcher
	// (which waits while its queue is full). A pong that arrives then is
	// not read, and a ping that times out meanwhile is not the peer's
	// fault.
	stalls  atomic.Uint64
	stalled atomic.Bool
	workers sync.WaitGroup // request workers, acks in the batcher, the ping and the token check in flight

	// Read loop only.
	limiter hub.Bucket
	refused int         // requests refused in a row by the rate limits
	user    *hub.Budget // the user's budget on this node, once authenticated

	mu       sync.Mutex
	receipts *chat.HighWater
}

func newSession(srv *Server, conn transport) *session {
	ctx, cancel := context.WithCancel(context.Background())
	id := srv.idPrefix + "." + strconv.FormatUint(srv.nextID.Add(1), 10)
	s := &session{
		srv: srv, conn: conn, id: id,
		ctx: ctx, cancel: cancel,
		queue:     newSendQueue(srv.cfg.SendQueue, srv.cfg.SendQueueBytes),
		closing:   make(chan struct{}),
		writeDone: make(chan struct{}),
		sem:       make(chan struct{}, MaxInflight),
		limiter:   hub.NewBucket(srv.cfg.RatePerSec, srv.cfg.RateBurst),
		receipts:  chat.NewHighWater(receiptMarks),
	}
	s.flusher = hub.Flusher{Run: s.flushLoop, Try: s.tryFlush, Closing: s.isClosing, Empty: func() bool { return s.queue.len() == 0 }}
	if srv.flusherOnly {
		s.flusher.Try = nil
	}
	s.log.Store(srv.log.With("session_id", id))
	return s
}

func (s *session) logger() *slog.Logger { return s.log.Load() }

// run is the read loop and then the teardown.
func (s *session) run() {
	s.startTimers()
	s.readLoop()
	// The read loop ends on a read error or after asking for a close;
	// either way the session is over.
	s.close(closeAbnormal, "", false)
	s.srv.hub.Unregister(s)
	if s.user != nil {
		s.srv.hub.RemoveUser(s.actor.User, s.user)
	}
	<-s.writeDone
	s.stopTimers()
	s.cancel()
	s.workers.Wait()
	s.srv.metrics.ConnClosed(s.closeCode)
	s.logger().Debug("session closed", "code", s.closeCode, "reason", s.closeReason)
}

// startTimers arms the auth timeout, the ping and the token check.
func (s *session) startTimers() {
	cfg := s.srv.cfg
	s.tmu.Lock()
	defer s.tmu.Unlock()
	s.authTimer = time.AfterFunc(cfg.AuthTimeout, func() {
		if !s.authed.Load() {
			s.close(protocol.CloseAuth, "authentication timed out", false)
		}
	})
	s.pingTimer = time.AfterFunc(cfg.PingInterval, func() {
		if s.timerWorker() {
			defer s.workers.Done()
			s.ping(cfg.PingInterval)
			s.rearm(s.pingTimer, cfg.PingInterval)
		}
	})
	s.tokTimer = time.AfterFunc(cfg.TokenCheckInterval, func() {
		if s.timerWorker() {
			defer s.workers.Done()
			if s.authed.Load() {
				s.checkToken()
			}
			s.rearm(s.tokTimer, cfg.TokenCheckInterval)
		}
	})
}

// timerWorker counts a timer function as a worker, unless the timers are
// stopped (then it must return at once).
func (s *session) timerWorker() bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.timersOff || s.isClosing() {
		return false
	}
	s.workers.Add(1)
	return true
}

// rearm arms t again unless the timers are stopped or the session is
// closing.
func (s *session) rearm(t *time.Timer, d time.Duration) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if !s.timersOff && !s.isClosing() {
		t.Reset(d)
	}
}

// stopTimers stops the timers: none fires a worker afterwards.
func (s *session) stopTimers() {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	s.timersOff = true
	s.authTimer.Stop()
	s.pingTimer.Stop()
	s.tokTimer.Stop()
}

func (s *session) isClosing() bool { return s.closed.Load() }

// close asks the flusher to close the connection with code. The first
// call wins. With flush, frames already queued are written first (an
// error reply that explains the close).
func (s *session) close(code int, reason string, flush bool) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeReason, s.flush = code, reason, flush
		s.closed.Store(true)
		close(s.closing)
		s.kick()
	})
}

// send queues a frame for the flusher, and starts one if the queue was
// empty. It never blocks: a full queue means the peer does not read fast
// enough, and it is disconnected.
func (s *session) send(f outFrame) {
	if s.isClosing() {
		return
	}
	if ok, first := s.queue.push(f); first {
		s.kick()
	} else if !ok {
		s.srv.metrics.SlowConsumer()
		s.logger().Info("slow consumer", "frames", s.queue.len(), "bytes", s.queue.bytes.Load(), "frame_bytes", len(f.b))
		s.close(protocol.CloseSlowConsumer, "slow consumer", false)
	}
}

// sendRefusal queues the error reply of a request refused by a rate
// limit. When it does not fit, the queue is full of the answers to the
// client's own burst, not of what it failed to read: that is flooding
// (4008), whether or not the client reads.
func (s *session) sendRefusal(f outFrame) {
	if s.isClosing() {
		return
	}
	if ok, first := s.queue.push(f); first {
		s.kick()
	} else if !ok {
		s.logger().Info("flooding", "refused", s.refused, "frames", s.queue.len())
		s.close(protocol.CloseFlooding, "flooding", false)
	}
}

// sendQueue is a session's bounded send queue. It holds no memory while
// empty (a channel would preallocate its bound for every session: about
// 10 KB each, 1 GB for 100,000 idle connections), and the flusher takes
// everything queued at once.
//
// It is bounded twice: in frames queued (max) and in bytes not yet
// written (maxBytes), which counts the frames the flusher has taken
// but not finished writing too, so that what a session holds for a peer
// that does not read is at most maxBytes (and what the socket buffers).
// The flusher writes everything it took in one transport Write, and
// the bytes of a batch go down when that Write returns, for the frames it
// wrote whole.
type sendQueue struct {
	mu       sync.Mutex
	frames   []outFrame
	max      int
	maxBytes int64
	peak     int64 // the highest bytes ever held (tests); guarded by mu
	// bytes is the size of the frames queued or being written: raised by
	// push under mu, lowered by the flusher after each batch.
	bytes atomic.Int64
}

func newSendQueue(max, maxBytes int) *sendQueue {
	return &sendQueue{max: max, maxBytes: int64(maxBytes)}
}

// push queues f; ok is false when the queue is full, first is true when f
// is the only frame queued (the queue was empty). A read count replaces
// the count of the same message still queued, where it stands: a peer
// that reads slower than the counts change gets the newest once, not
// each of them in a burst (which would also break the coalescing's "one
// push per message per interval" on the wire).
func (q *sendQueue) push(f outFrame) (ok, first bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if f.count != 0 {
		for i := len(q.frames) - 1; i >= 0; i-- {
			if q.frames[i].count != f.count {
				continue
			}
			d := int64(len(f.b) - len(q.frames[i].b))
			n := q.bytes.Load() + d
			if n > q.maxBytes {
				return false, false
			}
			q.frames[i] = f
			q.bytes.Add(d)
			q.peak = max(q.peak, n)
			return true, false
		}
	}
	n := q.bytes.Load() + int64(len(f.b))
	if len(q.frames) >= q.max || n > q.maxBytes {
		return false, false
	}
	q.frames = append(q.frames, f)
	q.bytes.Add(int64(len(f.b)))
	q.peak = max(q.peak, n)
	return true, len(q.frames) == 1
}

// written lowers the bytes held by frames the socket has taken.
func (q *sendQueue) written(n int64) { q.bytes.Add(-n) }

// len returns how many frames are queued.
func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.frames)
}

// take returns everything queued, oldest first, reusing spare's storage
// for the next frames.
func (q *sendQueue) take(spare []outFrame) []outFrame {
	q.mu.Lock()
	out := q.frames
	q.frames = spare[:0]
	q.mu.Unlock()
	return out
}

// open marks the session ready: the flusher may write from now on.
func (s *session) open() { s.flusher.Open() }

// kick starts the flusher unless one runs, the close is done, or there is
// nothing it may do yet (not ready and not closing).
func (s *session) kick() { s.flusher.Kick() }

// flushLoop is the flusher: it writes everything queued, a batch (one
// transport Write) at a time, until the queue is empty, and exits; or it
// carries out the close, which takes precedence over whatever is queued.
func (s *session) flushLoop() {
	for {
		if s.isClosing() {
			s.finish()
			return
		}
		if len(s.unsent) > 0 || s.pend.b != nil {
			// What tryFlush left goes first.
			batch := s.unsent
			s.unsent = nil
			if !s.writeOrFail(batch) {
				return
			}
			continue
		}
		s.batch = s.queue.take(s.batch)
		if len(s.batch) == 0 {
			// An idle session holds no batch storage; cleared before Idle,
			// after which another flusher may run.
			s.batch, s.msgs = nil, nil
			if s.flusher.Idle() {
				return
			}
			continue
		}
		// A close is noticed between batches.
		if s.isClosing() {
			s.unsent = s.batch // finish() writes them when asked to flush
			s.batch = nil
			continue
		}
		ok := s.writeOrFail(s.batch)
		clear(s.batch)
		if !ok {
			return
		}
	}
}

// writeOrFail writes batch (write); when that fails, it ends the session
// and the flusher's work, and returns false.
func (s *session) writeOrFail(batch []outFrame) bool {
	err := s.write(batch)
	if err == nil {
		return true
	}
	s.logger().Debug("write failed", "err", err)
	s.close(closeAbnormal, "", false)
	s.conn.CloseNow()
	s.done()
	return false
}

// tryFlush is the flusher's attempt in the goroutine that kicked it
// (hub.Flusher.Try): one write of everything queued that never waits
// (transport.TryWrite). It returns true when the socket took all of it and
// the flusher is idle again. Otherwise flushLoop, on a goroutine, goes on
// from what it left: the frames not taken (unsent) and the rest of one
// begun (pend, kept by the transport), or a close, or a failed write.
func (s *session) tryFlush() bool {
	if s.isClosing() || len(s.unsent) > 0 || s.pend.b != nil {
		return false
	}
	batch := s.queue.take(s.batch)
	taken, pending, err := s.conn.TryWrite(s.srv.cfg.WriteTimeout, s.payloads(batch)...)
	clear(s.msgs)
	done := taken
	if pending {
		done--
		s.pend = batch[done]
	}
	s.account(batch[:done])
	left := err != nil || pending || taken < len(batch)
	if left {
		s.unsent = append([]outFrame(nil), batch[taken:]...)
	}
	clear(batch)
	// An idle session holds no batch storage (see flushLoop).
	s.batch, s.msgs = nil, nil
	if left {
		return false
	}
	return s.flusher.Idle()
}

// done marks the close done: no flusher starts again.
func (s *session) done() {
	s.flusher.Done()
	close(s.writeDone)
}

// ping sends a WebSocket ping and waits for the pong; no pong within
// timeout closes the session (a peer that does not answer within the
// interval is gone), unless the read loop stopped reading meanwhile for
// the server's own backpressure: the pong may be waiting unread behind
// the client's requests, and the next ping asks again.
func (s *session) ping(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	// A stall at any moment of the wait counts: one under way when the
	// ping went out, one begun since, or one still going.
	wasStalled, stalls := s.stalled.Load(), s.stalls.Load()
	if err := s.conn.Ping(ctx); err != nil && s.ctx.Err() == nil {
		if ctx.Err() != nil && (wasStalled || s.stalled.Load() || s.stalls.Load() != stalls) {
			s.logger().Debug("ping unanswered while the server was not reading")
			return
		}
		s.logger().Debug("ping failed", "err", err)
		s.close(closeAbnormal, "", false)
		s.conn.CloseNow()
	}
}

// finish writes the queued frames when asked to, then the close frame,
// and waits (bounded by the library: 5s each way) for the close handshake;
// then the close is done.
func (s *session) finish() {
	defer s.done()
	if s.flush {
		s.write(append(s.unsent, s.queue.take(nil)...))
	}
	switch s.closeCode {
	case closeAbnormal:
		// The connection failed or the peer closed it: nothing to say.
		s.conn.CloseNow()
	default:
		s.conn.Close(s.closeCode, s.closeReason)
	}
}

// write writes a batch of frames in one transport Write and accounts for
// what was written: the queue's bytes go down and the metrics count each
// frame.
func (s *session) write(batch []outFrame) error {
	if len(batch) == 0 && s.pend.b == nil {
		return nil
	}
	n, err := s.conn.Write(s.srv.cfg.WriteTimeout, s.payloads(batch)...)
	clear(s.msgs)
	if s.pend.b != nil && (err == nil || n > 0) {
		// The rest of the frame tryFlush began went out first.
		s.account([]outFrame{s.pend})
		s.pend = outFrame{}
	}
	s.account(batch[:n])
	return err
}

// payloads returns the bytes of batch's frames, in s.msgs (which the
// caller clears once written).
func (s *session) payloads(batch []outFrame) [][]byte {
	s.msgs = s.msgs[:0]
	for _, f := range batch {
		s.msgs = append(s.msgs, f.b)
	}
	return s.msgs
}

// account lowers the queue's bytes by frames the socket took whole and
// counts them.
func (s *session) account(frames []outFrame) {
	var sum int64
	for _, f := range frames {
		sum += int64(len(f.b))
		s.srv.metrics.FrameOut(f.kind)
	}
	s.queue.written(sum)
}

// checkToken closes the session with 4002 when its token was revoked or
// has expired. Storage errors are not the client's fault: they are
// ignored until the next check.
func (s *session) checkToken() {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	_, err := s.srv.svc.Authenticate(ctx, s.token)
	switch chat.ErrorCode(err) {
	case chat.CodeUnauthorized, chat.CodeTokenExpired:
		s.logger().Info("token revoked")
		s.close(protocol.CloseTokenRevoked, "token revoked", false)
	}
}

func (s *session) readLoop() {
	max := s.srv.cfg.MaxFrameBytes
	for {
		text, b, err := s.conn.Read(max)
		if errors.Is(err, errTooLarge) {
			// The transport read the rest of the message (up to 16*max;
			// over that it closed the connection at once), so that the
			// close handshake can read the peer's close frame.
			s.srv.metrics.FrameIn("")
			s.close(protocol.CloseProtocol, "frame too large", false)
			return
		}
		if err != nil {
			code := closeCodeOf(err)
			s.close(code, "", false)
			if code == closeAbnormal {
				// The connection failed: a close handshake the flusher
				// may be waiting on will never complete.
				s.conn.CloseNow()
			}
			return
		}
		if s.isClosing() {
			return
		}
		if !text {
			s.srv.metrics.FrameIn("")
			s.close(protocol.CloseProtocol, "binary frame", false)
			return
		}
		if !s.handleFrame(b) {
			return
		}
	}
}

// handleFrame handles one text frame, b, which is the transport's until
// the next read: whatever outlives the call is copied (encoding/json
// copies req.Data). It returns false when the session is closing.
func (s *session) handleFrame(b []byte) bool {
	// The hot frame first, on its fast path; any other, or any other form
	// of it, generically.
	var req protocol.Request
	var strictErr error
	id, ack, fast := decodeFastAck(b)
	if fast {
		req = protocol.Request{ID: id, Op: protocol.OpReceiptAck}
	} else {
		var err error
		req, strictErr, err = decodeRequest(b)
		if err != nil {
			s.srv.metrics.FrameIn("")
			s.close(protocol.CloseProtocol, err.Error(), false)
			return false
		}
	}
	h, known := handlers[req.Op]
	if known || req.Op == protocol.OpAuth || req.Op == protocol.OpPing || req.Op == protocol.OpReceiptAck {
		s.srv.metrics.FrameIn(req.Op)
	} else {
		s.srv.metrics.FrameIn("")
	}
	// The connection's bucket first, so that a connection over its own
	// limit does not spend its user's budget; then the user's, shared by
	// the user's connections on this node.
	now := time.Now()
	var refusal string
	if !s.limiter.Allow(now) {
		refusal = "too many requests on this connection; slow down"
	} else if s.user != nil && !s.user.Allow(now) {
		refusal = "too many requests from this user; slow down"
	}
	if refusal != "" {
		s.refused++
		if s.refused >= floodFactor*s.srv.cfg.RateBurst {
			s.logger().Info("flooding", "refused", s.refused)
			s.close(protocol.CloseFlooding, "flooding", false)
			return false
		}
		s.sendRefusal(s.errorFrame(req, chat.Errorf(chat.CodeRateLimited, "%s", refusal)))
		return !s.isClosing()
	}
	s.refused = 0
	// The envelope itself is strict too: an unknown key is a typo,
	// answered once the request has passed the rate limits.
	if strictErr != nil {
		s.replyError(req, badData(strictErr))
		if !s.authed.Load() {
			s.close(protocol.CloseAuth, "bad auth request", true)
			return false
		}
		return true
	}
	if !s.authed.Load() {
		if req.Op != protocol.OpAuth {
			s.replyError(req, chat.Errorf(chat.CodeUnauthorized, "the first request must be auth"))
			s.close(protocol.CloseAuth, "authentication required", true)
			return false
		}
		return s.authenticate(req)
	}
	switch req.Op {
	case protocol.OpAuth:
		s.replyError(req, chat.Errorf(chat.CodeBadRequest, "already authenticated"))
		return true
	case protocol.OpPing:
		if err := protocol.Decode(req.Data, new(protocol.Ping)); err != nil {
			s.replyError(req, badData(err))
			return true
		}
		s.reply(req, protocol.Pong{ServerTime: time.Now().UnixMilli()})
		return true
	}
	if !known && req.Op != protocol.OpReceiptAck {
		s.replyError(req, chat.Errorf(chat.CodeBadRequest, "unknown op %q", req.Op))
		return true
	}
	if !s.acquire() {
		return false
	}
	if req.Op == protocol.OpReceiptAck {
		if !fast {
			var err error
			if ack, err = decodeData[protocol.ReceiptAck](req.Data); err != nil {
				<-s.sem
				s.replyError(req, err)
				return true
			}
		}
		s.receiptAck(req.ID, ack)
		return !s.isClosing()
	}
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		defer func() { <-s.sem }()
		data, err := h(s.ctx, s, req.Data)
		if err != nil {
			s.replyError(req, err)
			return
		}
		s.reply(req, data)
	}()
	return true
}

// acquire takes a request slot for the read loop, waiting while every
// slot is taken (a stall: see session.stalls). It returns false when the
// session closes first.
func (s *session) acquire() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
	}
	s.stall(true)
	defer s.stall(false)
	select {
	case s.sem <- struct{}{}:
		return true
	case <-s.closing:
		return false
	}
}

// stall marks the read loop as waiting on the server's backpressure (or
// done waiting).
func (s *session) stall(on bool) {
	if on {
		s.stalls.Add(1)
	}
	s.stalled.Store(on)
}

// authenticate handles the auth request. On success it queues the reply,
// registers the session for its user's and groups' topics, and opens the
// session for the flusher; on failure it replies with the error and closes.
func (s *session) authenticate(req protocol.Request) bool {
	fail := func(err error, code int, reason string) bool {
		s.replyError(req, err)
		s.close(code, reason, true)
		return false
	}
	var a protocol.Auth
	if err := protocol.Decode(req.Data, &a); err != nil {
		return fail(badData(err), protocol.CloseAuth, "bad auth request")
	}
	if a.Version != protocol.Version {
		return fail(chat.Errorf(chat.CodeBadRequest, "protocol version %d is not supported; this server speaks version %d", a.Version, protocol.Version),
			protocol.CloseProtocol, "unsupported protocol version")
	}
	dev := chat.DeviceID(a.Device)
	if err := chat.CheckDevice(dev); err != nil {
		return fail(err, protocol.CloseAuth, "bad device id")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.cfg.AuthTimeout)
	defer cancel()
	u, err := s.srv.svc.Authenticate(ctx, a.Token)
	if err != nil {
		if chat.ErrorCode(err) == chat.CodeInternal {
			s.logger().Error("authenticate", "err", err)
			return fail(err, closeInternal, "internal error")
		}
		return fail(err, protocol.CloseAuth, "authentication failed")
	}
	// Conn names this very connection, so that the events it causes skip
	// it alone: another tab of the same browser shares the device id.
	s.actor = chat.Actor{User: u.ID, Name: u.Name, Device: dev, Conn: s.id}
	s.user = s.srv.hub.AddUser(u.ID, s.srv.cfg.UserRatePerSec, s.srv.cfg.UserRateBurst)
	s.token, s.tokenHash = a.Token, chat.TokenHash(a.Token)
	s.log.Store(s.logger().With("user_id", int64(u.ID)))
	// The reply is queued first and the flusher starts writing only once
	// the session is registered: the reply is the first frame, and
	// every event published after it reaches the session.
	s.reply(req, protocol.AuthReply{
		User: u.Name, Device: a.Device, ServerTime: time.Now().UnixMilli(), Version: protocol.Version,
		HeartbeatMs: s.srv.cfg.PingInterval.Milliseconds(),
	})
	// The user's topic, then every group's; the hub follows the user's
	// groups from then on.
	if err := s.srv.hub.Follow(ctx, s, s.actor, s.srv.svc); err != nil {
		// The queued reply is never written: the close says it all.
		s.logger().Error("register session", "err", err)
		s.close(closeInternal, "internal error", false)
		return false
	}
	s.authed.Store(true)
	s.slot.Authenticated()
	s.open()
	s.logger().Debug("session authenticated", "device", a.Device)
	return true
}

func (s *session) reply(req protocol.Request, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		s.replyError(req, fmt.Errorf("encode %s reply: %w", req.Op, err))
		return
	}
	f, err := encodeFrame(protocol.Reply{ID: req.ID, OK: true, Data: b})
	if err != nil {
		s.replyError(req, fmt.Errorf("encode %s reply: %w", req.Op, err))
		return
	}
	// A reply that could never fit the send budget is refused on its own
	// (the client asks for a smaller page) rather than closing as a slow
	// consumer a client that reads.
	if max := s.srv.cfg.SendQueueBytes; len(f) > max {
		s.replyError(req, chat.Errorf(chat.CodeTooLarge, "the reply is %d bytes, over this connection's limit of %d (send-queue-bytes); ask for a smaller page", len(f), max))
		return
	}
	s.send(outFrame{b: f, kind: req.Op})
}

// errInvalidUTF8 is the error of a frame that would not be valid UTF-8.
var errInvalidUTF8 = errors.New("frame is not valid UTF-8")

// encodeFrame encodes every frame the server writes (replies, pushes).
// encoding/json replaces invalid UTF-8 in strings, but copies a
// json.RawMessage (ext, customExts) as it is: a text frame with invalid
// UTF-8 makes browsers drop the connection, so it is refused here, the
// last line of defence behind the validation in chat. utf8.Valid is
// cheap on ASCII, which nearly every frame is.
func encodeFrame(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(b) {
		return nil, errInvalidUTF8
	}
	return b, nil
}

// replyError sends an error reply. Internal errors are logged, with the
// ids the request named, and sent only as "internal error".
func (s *session) replyError(req protocol.Request, err error) {
	s.replyErrorRef(req, err, func() (string, string) { return refIDs(req.Data) })
}

// replyErrorRef is replyError for a request whose data may be gone:
// ids returns the group and message ids it named, for the log.
func (s *session) replyErrorRef(req protocol.Request, err error, ids func() (group, msg string)) {
	code := chat.ErrorCode(err)
	if code == chat.CodeInternal {
		if s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // the session is over: nobody is listening
		}
		group, msg := ids()
		s.logger().Error("request failed", "op", req.Op, "group_id", group, "msg_id", msg, "err", err)
	}
	s.send(s.errorFrame(req, err))
}

// refIDs returns the group and message ids that request data names, for
// the log of a failed request; none when the data does not decode (the
// op's handler refused it then, so no internal error is logged for it).
// This decodes the data a second time, but only for a request that failed
// inside the server.
func refIDs(data json.RawMessage) (group, msg string) {
	var ids struct {
		GroupID string `json:"groupId"`
		MsgID   string `json:"msgId"`
	}
	if err := json.Unmarshal(data, &ids); err != nil {
		return "", ""
	}
	return ids.GroupID, ids.MsgID
}

// errorFrame is the error reply to req (counted in the metrics). Its
// strings are encoded by encoding/json, which makes them valid UTF-8.
func (s *session) errorFrame(req protocol.Request, err error) outFrame {
	s.srv.metrics.ErrorReply(string(chat.ErrorCode(err)))
	f, _ := json.Marshal(protocol.Reply{ID: req.ID, Error: wire.Error(err)})
	return outFrame{b: f, kind: req.Op}
}

// Codec is the encoding of this protocol's pushes (hub.Subscriber).
func (s *session) Codec() hub.Codec { return pushCodec{} }

// Closing reports whether the session is closing (hub.Subscriber).
func (s *session) Closing() bool { return s.isClosing() }

// Deliver filters one bus event for this session and queues its frame
// (hub.Subscriber). The hub makes the subscription changes a group event
// implies once it has been delivered.
func (s *session) Deliver(ev chat.Event, f hub.Frame) {
	me := s.actor
	out := outFrame{b: f.Data, kind: f.Kind}
	switch ev.Kind {
	case chat.EventMessage:
		// The sending connection has the reply; every other session of the
		// user gets the push, another tab on the same device id included.
		// A reminder is no echo: the reply to receipt.remind does not carry
		// it, so the reminding connection gets it too when it is addressed
		// to its user.
		if m := ev.Message; m.From == me.User && m.OriginConn == me.Conn && m.Type != chat.TypeRemind {
			return
		}
	case chat.EventReceipt:
		// Counts never go backwards on a device (chat.HighWater).
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.receipts.Raise(ev.Receipt.Msg, ev.Receipt.Count) {
			return
		}
		out.count = ev.Receipt.Msg
		s.send(out)
		return
	case chat.EventPeerRead, chat.EventDelivered, chat.EventChannel:
		if p := ev.Peer; p.FromID == me.User && p.Conn == me.Conn {
			return // my own receipt echoed to the connection that sent it
		}
	case chat.EventConvRead:
		if c := ev.ConvRead; c.Conn == me.Conn {
			return // the connection that acknowledged knows
		}
	case chat.EventRevoked:
		// Logout or a password change: close now rather than at the next
		// token check.
		if h := ev.Revoked.TokenHash; h == nil || bytes.Equal(h, s.tokenHash) {
			s.logger().Info("token revoked")
			s.close(protocol.CloseTokenRevoked, "token revoked", false)
		}
		return
	}
	s.send(out)
}
