package ws

// Goroutine ownership of a session.
//
// A session has exactly two long-lived goroutines:
//
//   - The read loop (run, on the HTTP handler's goroutine) reads frames,
//     authenticates the first one, applies the rate limit, decodes the
//     envelope and starts a request worker per request. When it ends it
//     tears the session down: unregisters from the hub, waits for the
//     write loop, cancels the session context and waits for the workers.
//   - The write loop (writeLoop) is the only goroutine that writes data
//     frames to the transport: queued frames and the close frame. It holds the
//     auth timer, the ping ticker and the token-check ticker. On each tick
//     it starts a short-lived ping goroutine (at most one at a time) that
//     sends a WebSocket ping and waits for the pong, so that writes never
//     stall for a round trip; the transport serializes its control frame
//     with the data frames.
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
// close; the first close wins and the write loop carries it out.
//
// Lock order: the hub's (Hub.mu, topic.mu), then session.mu. session.mu
// guards only the receipt high-water marks. The user's request budget
// (hub.Budget) and the send queue's mutex are leaves.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	unsent []outFrame // taken from queue but not written when closing began; write loop only
	// ready is closed once the auth reply is queued and the session is
	// registered with the hub: the write loop writes nothing before, so
	// the auth reply is always the first frame.
	ready     chan struct{}
	closing   chan struct{}
	closeOnce sync.Once
	// Set once, before closing is closed.
	closeCode   int
	closeReason string
	flush       bool // write what is queued before the close frame
	writeDone   chan struct{}

	sem     chan struct{}  // request worker slots
	workers sync.WaitGroup // request workers and the ping in flight
	pinging atomic.Bool

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
		ready:     make(chan struct{}),
		closing:   make(chan struct{}),
		writeDone: make(chan struct{}),
		sem:       make(chan struct{}, MaxInflight),
		limiter:   hub.NewBucket(srv.cfg.RatePerSec, srv.cfg.RateBurst),
		receipts:  chat.NewHighWater(receiptMarks),
	}
	s.log.Store(srv.log.With("session_id", id))
	return s
}

func (s *session) logger() *slog.Logger { return s.log.Load() }

// run is the read loop and then the teardown.
func (s *session) run() {
	go s.writeLoop()
	s.readLoop()
	// The read loop ends on a read error or after asking for a close;
	// either way the session is over.
	s.close(closeAbnormal, "", false)
	s.srv.hub.Unregister(s)
	if s.user != nil {
		s.srv.hub.RemoveUser(s.actor.User, s.user)
	}
	<-s.writeDone
	s.cancel()
	s.workers.Wait()
	s.srv.metrics.ConnClosed(s.closeCode)
	s.logger().Debug("session closed", "code", s.closeCode, "reason", s.closeReason)
}

func (s *session) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// close asks the write loop to close the connection with code. The first
// call wins. With flush, frames already queued are written first (an
// error reply that explains the close).
func (s *session) close(code int, reason string, flush bool) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeReason, s.flush = code, reason, flush
		close(s.closing)
	})
}

// send queues a frame for the write loop. It never blocks: a full queue
// means the peer does not read fast enough, and it is disconnected.
func (s *session) send(f outFrame) {
	if s.isClosing() {
		return
	}
	if !s.queue.push(f) {
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
	if !s.queue.push(f) {
		s.logger().Info("flooding", "refused", s.refused, "frames", s.queue.len())
		s.close(protocol.CloseFlooding, "flooding", false)
	}
}

// sendQueue is a session's bounded send queue. It holds no memory while
// empty (a channel would preallocate its bound for every session: about
// 10 KB each, 1 GB for 100,000 idle connections), and the write loop takes
// everything queued at once.
//
// It is bounded twice: in frames queued (max) and in bytes not yet
// written (maxBytes), which counts the frames the write loop has taken
// but not finished writing too, so that what a session holds for a peer
// that does not read is at most maxBytes (and what the socket buffers).
type sendQueue struct {
	mu       sync.Mutex
	frames   []outFrame
	max      int
	maxBytes int64
	peak     int64 // the highest bytes ever held (tests); guarded by mu
	// bytes is the size of the frames queued or being written: raised by
	// push under mu, lowered by the write loop after each write.
	bytes atomic.Int64
	ready chan struct{} // has a value when frames is not empty
}

func newSendQueue(max, maxBytes int) *sendQueue {
	return &sendQueue{max: max, maxBytes: int64(maxBytes), ready: make(chan struct{}, 1)}
}

// push queues f; false when the queue is full.
func (q *sendQueue) push(f outFrame) bool {
	q.mu.Lock()
	n := q.bytes.Load() + int64(len(f.b))
	if len(q.frames) >= q.max || n > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.frames = append(q.frames, f)
	q.bytes.Add(int64(len(f.b)))
	q.peak = max(q.peak, n)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// written lowers the bytes held by a frame the socket has taken.
func (q *sendQueue) written(f outFrame) { q.bytes.Add(-int64(len(f.b))) }

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

func (s *session) writeLoop() {
	defer close(s.writeDone)
	cfg := s.srv.cfg
	auth := time.NewTimer(cfg.AuthTimeout)
	defer auth.Stop()
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	tokens := time.NewTicker(cfg.TokenCheckInterval)
	defer tokens.Stop()

	var queued chan struct{} // nil (blocks) until ready
	var batch []outFrame
	ready := s.ready
	for {
		// A close takes precedence over whatever else is ready.
		select {
		case <-s.closing:
			s.finish()
			return
		default:
		}
		select {
		case <-s.closing:
			s.finish()
			return
		case <-ready:
			queued, ready = s.queue.ready, nil
		case <-queued:
			// One frame at a time: the queue's bytes go down and a close
			// is noticed between frames, which the send queue's bound and
			// "a close takes precedence" rely on.
			batch = s.queue.take(batch)
			for i, f := range batch {
				if s.isClosing() {
					s.unsent = batch[i:] // finish() writes them when asked to flush
					break
				}
				if err := s.write(f); err != nil {
					s.logger().Debug("write failed", "err", err)
					s.close(closeAbnormal, "", false)
					s.conn.CloseNow()
					return
				}
				batch[i] = outFrame{}
			}
		case <-auth.C:
			if !s.authed.Load() {
				s.close(protocol.CloseAuth, "authentication timed out", false)
			}
		case <-ping.C:
			// The ping waits for the pong (which the read loop receives) in
			// a goroutine of its own, so that writes do not stall for a
			// round trip; one ping at a time. A peer that does not answer
			// within the interval is gone.
			if s.pinging.CompareAndSwap(false, true) {
				s.workers.Add(1)
				go s.ping(cfg.PingInterval)
			}
		case <-tokens.C:
			if s.authed.Load() {
				s.checkToken()
			}
		}
	}
}

// ping sends a WebSocket ping and waits for the pong; no pong within
// timeout closes the session.
func (s *session) ping(timeout time.Duration) {
	defer s.workers.Done()
	defer s.pinging.Store(false)
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	if err := s.conn.Ping(ctx); err != nil && s.ctx.Err() == nil {
		s.logger().Debug("ping failed", "err", err)
		s.close(closeAbnormal, "", false)
		s.conn.CloseNow()
	}
}

// finish writes the queued frames when asked to, then the close frame,
// and waits (bounded by the library: 5s each way) for the close handshake.
func (s *session) finish() {
	if s.flush {
		for _, f := range append(s.unsent, s.queue.take(nil)...) {
			if s.write(f) != nil {
				break
			}
		}
	}
	switch s.closeCode {
	case closeAbnormal:
		// The connection failed or the peer closed it: nothing to say.
		s.conn.CloseNow()
	default:
		s.conn.Close(s.closeCode, s.closeReason)
	}
}

// write writes one frame and accounts for it: the queue's bytes go down
// and the metrics count it.
func (s *session) write(f outFrame) error {
	if _, err := s.conn.Write(s.srv.cfg.WriteTimeout, f.b); err != nil {
		return err
	}
	s.queue.written(f)
	s.srv.metrics.FrameOut(f.kind)
	return nil
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
	max := int64(s.srv.cfg.MaxFrameBytes)
	for {
		text, r, err := s.conn.Reader()
		if err != nil {
			s.close(closeCodeOf(err), "", false)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r, max+1))
		if err != nil {
			s.close(closeAbnormal, "", false)
			return
		}
		if int64(len(b)) > max {
			s.srv.metrics.FrameIn("")
			s.close(protocol.CloseProtocol, "frame too large", false)
			// Read the rest of the message (boundedly) so that the close
			// handshake can read the peer's close frame after it.
			io.Copy(io.Discard, io.LimitReader(r, 16*max))
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

// handleFrame handles one text frame. It returns false when the session
// is closing.
func (s *session) handleFrame(b []byte) bool {
	req, strictErr, err := decodeRequest(b)
	if err != nil {
		s.srv.metrics.FrameIn("")
		s.close(protocol.CloseProtocol, err.Error(), false)
		return false
	}
	h, known := handlers[req.Op]
	if known || req.Op == protocol.OpAuth || req.Op == protocol.OpPing {
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
	if !known {
		s.replyError(req, chat.Errorf(chat.CodeBadRequest, "unknown op %q", req.Op))
		return true
	}
	select {
	case s.sem <- struct{}{}:
	case <-s.closing:
		return false
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

// authenticate handles the auth request. On success it queues the reply,
// registers the session for its user's and groups' topics, and opens the
// write loop; on failure it replies with the error and closes.
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
	// The reply is queued first and the write loop starts writing only
	// once the session is registered: the reply is the first frame, and
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
	close(s.ready)
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
	code := chat.ErrorCode(err)
	if code == chat.CodeInternal {
		if s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // the session is over: nobody is listening
		}
		group, msg := refIDs(req.Data)
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
		if m := ev.Message; m.From == me.User && m.OriginConn == me.Conn {
			return
		}
	case chat.EventReceipt:
		// Counts never go backwards on a device (chat.HighWater).
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.receipts.Raise(ev.Receipt.Msg, ev.Receipt.Count) {
			return
		}
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
