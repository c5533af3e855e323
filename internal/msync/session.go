package msync

// Goroutine ownership of a session.
//
//   - The read loop (run, on the session's own goroutine, started by
//     Server.ServeHTTP, which then returns) reads every
//     frame, and handles it to the end before reading the next: the
//     PROVISION first, then UNREAD, SYNC uploads and pulls, each calling
//     the service and queueing its answer. It alone holds the pull state
//     (pull). When it ends it tears the session down: cancels the
//     session out of the hub, waits for the flusher and the helpers.
//   - The flusher (flushLoop) runs only while there is something to do:
//     send starts it when it queues into an empty queue, close when the
//     session closes. It writes everything queued, a batch (one writev) at
//     a time, and exits once the queue is empty; or it writes the close
//     frame, after which none starts again. An idle session has no
//     goroutine but its read loop, as internal/ws's sessions. The socket
//     has other writers, each under wsconn's write lock: the wsconn reader
//     (pongs and the echo of the peer's close frame) and the idle helper
//     (pings).
//   - Two timers (time.AfterFunc, re-armed until the teardown) run the
//     token check and the idle check, which start helpers.
//   - The hub's fan-out (Deliver, on publishers' goroutines, under the
//     hub's topic lock) filters and enqueues, never blocks and never calls
//     the hub. The hub itself keeps the session on its groups' topics.
//   - Helpers (spawn): the token check and the idle ping.
//
// Lock order: the hub's locks, then session.mu, which guards the receipt
// high-water marks, the held counts and torn, then session.qmu, the send
// queue's (taken last, held only to append, take or release frames);
// the flusher's lock (hub.Flusher) is taken alone or before qmu; the
// device's sent ids have their own lock; the queue's byte count is atomic.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"seen/internal/admit"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/msync/pb"
	"seen/internal/wsconn"
)

// receiptMarks is how many messages' last pushed read counts, and sent
// ids, a session remembers.
const receiptMarks = 4096

type session struct {
	srv  *Server
	conn transport
	id   string
	slot *admit.Slot  // the connection's place in the admission (Server.ServeHTTP)
	log  *slog.Logger // with session_id, and user_id once provisioned

	ctx    context.Context // cancelled at teardown
	cancel context.CancelFunc

	// Set by the read loop during PROVISION, before ready is closed;
	// read-only afterwards.
	actor       chat.Actor
	token       string
	tokenHash   []byte
	provisioned atomic.Bool  // set once the fields above are
	checking    atomic.Bool  // a token check is running
	pinging     atomic.Bool  // a ping is in flight
	lastRead    atomic.Int64 // Unix ns of the last frame read
	version     pb.MSync_Version
	queue       *pb.JID // the user's queue

	// The send queue: frames in order, grown as needed (an idle session
	// holds no room for 256 frames). writing counts the frames the
	// flusher took and whose Write has not returned yet: queued and
	// writing together are at most SendQueue frames, and outBytes, the
	// bytes of both, at most SendQueueBytes (send).
	qmu      sync.Mutex
	queued   [][]byte
	writing  int
	outBytes atomic.Int64
	spare    [][]byte // the queue's other slice, while a flusher runs; flusher only
	unsent   [][]byte // frames taken but not written: tryFlush left them; flusher only
	pend     []byte   // the frame tryFlush began, whose rest the transport keeps; flusher only

	// flusher starts flushLoop on demand, once run opens it.
	flusher hub.Flusher

	// The timers (startTimers), stopped at teardown (timersOff), after
	// which none is re-armed.
	tmu       sync.Mutex
	timersOff bool
	tokTimer  *time.Timer
	idleTimer *time.Timer

	closing   chan struct{}
	closed    atomic.Bool // set with closing, and cheaper to ask (isClosing is on every frame's path)
	closeOnce sync.Once
	closeCode int
	closeWhy  string
	flush     bool
	writeDone chan struct{} // closed when the close is done
	helpers   sync.WaitGroup

	// notices counts the NOTICEs queued: a pull that sees it change while
	// it read the stream sends one more after its answer (pull).
	notices atomic.Uint64

	// Read loop only.
	pull    pullState
	limiter hub.Bucket  // this connection's uploads
	reads   hub.Bucket  // this connection's UNREADs and pulls (allowRead)
	budget  *hub.Budget // the user's, on this node, once provisioned

	// sent holds the server ids of the messages the device sent, not
	// pulled back (devices.go); set at PROVISION, shared with the
	// device's other sessions on this node.
	sent *idSet

	mu    sync.Mutex
	marks *chat.HighWater
	// live is set once the login's statistics were answered: until then
	// live read counts are held, so that what changed while the user was
	// away reaches the SDK as onStatisticMessage, not onReadMessage.
	live bool
	held []*chat.ReceiptPush // at most receiptMarks
	torn bool                // the teardown began: spawn starts nothing
}

// pullState is where the user's queue stands on this connection: the
// stream positions the last answer reached, which the next pull
// confirms, and whether it was pulled at all.
type pullState struct {
	msgNext, statNext int64
	pulled            bool // the queue was pulled on this connection
	// statsDone is set once the statistics that changed before this
	// connection were answered (as one STATISTIC meta); later changes are
	// answered as READ_ACK metas.
	statsDone bool
}

func newSession(srv *Server, conn transport, id string) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		srv: srv, conn: conn, id: id, log: srv.log.With("session_id", id),
		ctx: ctx, cancel: cancel,
		closing:   make(chan struct{}),
		writeDone: make(chan struct{}),
		marks:     chat.NewHighWater(receiptMarks),
		limiter:   hub.NewBucket(srv.cfg.RatePerSec, srv.cfg.RateBurst),
		reads:     hub.NewBucket(srv.cfg.ReadRatePerSec, srv.cfg.ReadBurst),
	}
	s.flusher = hub.Flusher{Run: s.flushLoop, Try: s.tryFlush, Closing: s.isClosing, Empty: func() bool { return s.queueLen() == 0 }}
	return s
}

// run is the read loop and then the teardown.
func (s *session) run() {
	s.startTimers()
	s.open()
	s.readLoop()
	s.close(closeNormal, "", false)
	s.srv.hub.Unregister(s)
	if s.sent != nil {
		s.srv.devices.release(s.deviceKey(), s)
	}
	if s.budget != nil {
		s.srv.hub.RemoveUser(s.actor.User, s.budget)
	}
	s.mu.Lock()
	s.torn = true
	s.mu.Unlock()
	s.stopTimers()
	<-s.writeDone
	s.cancel()
	s.helpers.Wait()
	s.log.Debug("msync session closed", "code", s.closeCode, "reason", s.closeWhy)
}

func (s *session) isClosing() bool { return s.closed.Load() }

// close asks the flusher to close the connection. The first call wins.
// With flush, what is queued is written first.
func (s *session) close(code int, why string, flush bool) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeWhy, s.flush = code, why, flush
		s.closed.Store(true)
		close(s.closing)
		s.kick()
	})
}

// send queues a frame, and starts the flusher if the queue was empty. It
// never blocks: a full queue means the client does not read, and it is
// disconnected. The frames of the batch being written count against the
// bounds until its Write returns.
func (s *session) send(b []byte) {
	if s.isClosing() {
		return
	}
	if s.outBytes.Add(int64(len(b))) > int64(s.srv.cfg.SendQueueBytes) {
		s.slow(len(b))
		return
	}
	s.qmu.Lock()
	if len(s.queued)+s.writing >= s.srv.cfg.SendQueue {
		s.qmu.Unlock()
		s.slow(len(b))
		return
	}
	s.queued = append(s.queued, b)
	first := len(s.queued) == 1
	s.qmu.Unlock()
	if first {
		s.kick()
	}
}

// queueLen is how many frames are held: queued, or being written.
func (s *session) queueLen() int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return len(s.queued) + s.writing
}

// take swaps the queue for spare (emptied): it returns every frame
// queued, in order. They count as being written until released.
func (s *session) take(spare [][]byte) [][]byte {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	frames := s.queued
	s.queued = spare[:0]
	s.writing += len(frames)
	return frames
}

// release lowers the frames and bytes held by frames, which the socket
// has taken.
func (s *session) release(frames [][]byte) {
	n := 0
	for _, b := range frames {
		n += len(b)
	}
	s.outBytes.Add(-int64(n))
	s.qmu.Lock()
	s.writing -= len(frames)
	s.qmu.Unlock()
}

func (s *session) slow(n int) {
	s.log.Info("msync slow consumer", "frames", s.queueLen(), "bytes", s.outBytes.Load(), "frame_bytes", n)
	s.close(closeSlowConsumer, "slow consumer", false)
}

// keepBatch is the most frames whose room the flusher keeps between
// batches.
const keepBatch = 32

// open lets the flusher write: run opens the session before its read
// loop starts.
func (s *session) open() { s.flusher.Open() }

// kick starts the flusher unless one runs, the close is done, or there is
// nothing it may do yet (not open and not closing).
func (s *session) kick() { s.flusher.Kick() }

// flushLoop is the flusher: it writes every frame queued at the time in
// one Write (one writev), in queue order, until the queue is empty, and
// exits; or it carries out the close, which takes precedence over
// whatever is queued.
func (s *session) flushLoop() {
	for {
		if s.isClosing() {
			s.finish()
			return
		}
		if len(s.unsent) > 0 || s.pend != nil {
			// What tryFlush left goes first.
			batch := s.unsent
			s.unsent = nil
			if !s.write(batch) {
				s.done()
				return
			}
			continue
		}
		batch := s.take(s.spare)
		if len(batch) == 0 {
			// An idle session holds no batch storage; cleared before Idle,
			// after which another flusher may run.
			s.spare = nil
			if s.flusher.Idle() {
				return
			}
			continue
		}
		if !s.write(batch) {
			s.done()
			return
		}
		if s.spare = batch; cap(s.spare) > keepBatch {
			s.spare = nil
		}
	}
}

// tryFlush is the flusher's attempt in the goroutine that kicked it
// (hub.Flusher.Try): one write of everything queued that never waits
// (transport.TryWrite). It returns true when the socket took all of it and
// the flusher is idle again. Otherwise flushLoop, on a goroutine, goes on
// from what it left: the frames not taken (unsent) and the rest of one
// begun (pend, kept by the transport), or a close, or a failed write.
func (s *session) tryFlush() bool {
	if s.isClosing() || len(s.unsent) > 0 || s.pend != nil {
		return false
	}
	batch := s.take(s.spare)
	taken, pending, err := s.conn.TryWrite(s.srv.cfg.WriteTimeout, batch...)
	done := taken
	if pending {
		done--
		s.pend = batch[done]
	}
	s.release(batch[:done])
	left := err != nil || pending || taken < len(batch)
	if left {
		s.unsent = append([][]byte(nil), batch[taken:]...)
	}
	clear(batch)
	// An idle session holds no batch storage (see flushLoop).
	s.spare = nil
	if left {
		return false
	}
	return s.flusher.Idle()
}

// finish writes what is queued when the close asks for it, then the
// close frame; then the close is done.
func (s *session) finish() {
	defer s.done()
	if s.flush && !s.write(append(s.unsent, s.take(nil)...)) {
		return
	}
	_ = s.conn.Close(s.closeCode, s.closeWhy)
}

// done marks the close done: no flusher starts again.
func (s *session) done() {
	s.flusher.Done()
	close(s.writeDone)
}

// startTimers starts the token check, every TokenCheckInterval, and the
// idle check, every third of IdleTimeout.
func (s *session) startTimers() {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	s.tokTimer = s.every(s.srv.cfg.TokenCheckInterval, s.checkToken)
	s.idleTimer = s.every(s.srv.cfg.IdleTimeout/3, s.idle)
}

// every runs f every d until stopTimers. The caller holds tmu, so that
// the timer is assigned before its function re-arms it.
func (s *session) every(d time.Duration, f func()) *time.Timer {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		f()
		s.tmu.Lock()
		defer s.tmu.Unlock()
		if !s.timersOff {
			t.Reset(d)
		}
	})
	return t
}

// stopTimers stops the timers for good.
func (s *session) stopTimers() {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	s.timersOff = true
	s.tokTimer.Stop()
	s.idleTimer.Stop()
}

// write writes frames taken from the queue in one write; false when the
// connection failed. Once Write returns it releases the frames written
// (release), and clears batch's references to the frames. After a
// failure the frames not written stay counted: the session is closing,
// and queues nothing more.
func (s *session) write(batch [][]byte) bool {
	if len(batch) == 0 && s.pend == nil {
		return true
	}
	n, err := s.conn.Write(s.srv.cfg.WriteTimeout, batch...)
	if s.pend != nil && (err == nil || n > 0) {
		// The rest of the frame tryFlush began went out first.
		s.release([][]byte{s.pend})
		s.pend = nil
	}
	s.release(batch[:max(0, min(n, len(batch)))])
	clear(batch)
	if err != nil {
		s.close(closeInternal, "write failed", false)
		_ = s.conn.CloseNow()
		return false
	}
	return true
}

// checkToken checks the session's token again on a helper goroutine,
// one at a time; an expired or revoked token closes the session.
func (s *session) checkToken() {
	if !s.provisioned.Load() || !s.checking.CompareAndSwap(false, true) {
		return
	}
	s.spawn(func() {
		defer s.checking.Store(false)
		_, err := s.srv.svc.Authenticate(s.ctx, s.token)
		switch chat.ErrorCode(err) {
		case "", chat.CodeInternal, chat.CodeUnavailable:
			if err != nil {
				s.log.Warn("msync token check", "err", err)
			}
		default:
			s.close(closeTokenRevoked, chat.ErrorMessage(err), false)
		}
	})
}

// idle pings a connection that has been silent for a third of the idle
// timeout, on a helper goroutine, and closes it when the pong does not
// come within another third.
func (s *session) idle() {
	third := s.srv.cfg.IdleTimeout / 3
	silent := s.srv.now().Sub(time.Unix(0, s.lastRead.Load()))
	if !s.provisioned.Load() || silent < third || !s.pinging.CompareAndSwap(false, true) {
		return
	}
	s.spawn(func() {
		defer s.pinging.Store(false)
		ctx, cancel := context.WithTimeout(s.ctx, third)
		defer cancel()
		if err := s.conn.Ping(ctx); err != nil && s.ctx.Err() == nil {
			s.close(closePolicy, "idle", false)
		}
	})
}

// readLoop reads and handles frames until the connection ends or the
// session closes.
func (s *session) readLoop() {
	timeout := s.srv.cfg.AuthTimeout
	for !s.isClosing() {
		b, err := s.conn.Read(timeout)
		if err != nil {
			var pe *wsconn.ProtocolError
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				s.close(closePolicy, "timed out", false)
			case errors.Is(err, errTooLarge):
				s.close(closeTooBig, "frame too large", false)
			case errors.Is(err, errText):
				s.close(closeUnsupported, "text frame", false)
			case errors.As(err, &pe):
				s.close(closeProtocol, "protocol error", false)
			}
			return
		}
		timeout = 0 // from now on the idle timer watches for silence (idle)
		s.lastRead.Store(s.srv.now().UnixNano())
		var f pb.MSync
		if err := proto.Unmarshal(b, &f); err != nil {
			s.close(closePolicy, "malformed frame", false)
			return
		}
		if !s.handle(&f) {
			return
		}
	}
}

// handle handles one frame; false ends the read loop.
func (s *session) handle(f *pb.MSync) bool {
	if !s.provisioned.Load() {
		if f.GetCommand() != pb.MSync_PROVISION {
			s.close(closeAuthFailed, "provision first", false)
			return false
		}
		return s.provision(f)
	}
	switch f.GetCommand() {
	case pb.MSync_PROVISION:
		s.close(closePolicy, "provisioned twice", false)
		return false
	case pb.MSync_UNREAD:
		s.unread()
	case pb.MSync_SYNC:
		var ul pb.CommSyncUL
		if err := proto.Unmarshal(f.GetPayload(), &ul); err != nil {
			s.close(closePolicy, "malformed sync", false)
			return false
		}
		switch {
		case ul.Meta != nil:
			s.upload(ul.Meta)
		case ul.Queue != nil:
			s.pullQueue(ul.Queue)
		}
	case pb.MSync_LOGOUT:
		s.close(closeNormal, "logout", true)
		return false
	}
	return true
}

// frame encodes an MSync frame of cmd with payload p.
func (s *session) frame(cmd pb.MSync_Command, p proto.Message) []byte {
	payload, err := proto.Marshal(p)
	if err == nil {
		var b []byte
		b, err = proto.Marshal(&pb.MSync{Version: s.version.Enum(), Command: cmd.Enum(), Payload: payload})
		if err == nil {
			return b
		}
	}
	// Every message here is built by this package: a failure is a bug.
	panic(fmt.Sprintf("msync: encode %s: %v", cmd, err))
}

// ok is the status of a success.
func ok() *pb.Status { return &pb.Status{ErrorCode: pb.Status_OK.Enum()} }

// fail is the status of a refusal: FAIL (1) with reason, which the SDK
// turns into a rejected promise. Never PERMISSION_DENIED (7): with a
// reason it does not know the SDK drops the answer and times out.
func fail(reason string) *pb.Status {
	return &pb.Status{ErrorCode: pb.Status_FAIL.Enum(), Reason: proto.String(reason)}
}

// provision handles the login frame.
func (s *session) provision(f *pb.MSync) bool {
	s.version = f.GetVersion()
	var p pb.Provision
	if err := proto.Unmarshal(f.GetPayload(), &p); err != nil {
		return s.refuse("malformed provision", "malformed provision")
	}
	if k := f.GetGuid().GetAppKey(); k != s.srv.cfg.AppKey {
		s.log.Info("msync wrong app key", "app_key", k)
		return s.refuse(fmt.Sprintf("Sorry, app key %q is not served here", k), "wrong app key")
	}
	token, _ := strings.CutPrefix(f.GetAuth(), "$t$")
	u, until, err := s.srv.svc.AuthenticateUntil(s.ctx, token)
	if err != nil {
		reason, why := authRefusal(err)
		if why == "server error" {
			s.log.Error("msync authenticate", "err", err)
		}
		return s.refuse(reason, why)
	}
	if name := f.GetGuid().GetName(); !strings.EqualFold(name, u.Name) {
		return s.refuse("Sorry, token or password does not match login info", "token of another user")
	}
	res := p.GetResource()
	if res == "" {
		res = "seen_" + s.id
	}
	if err := chat.CheckDevice(chat.DeviceID(res)); err != nil {
		return s.refuse("Sorry, "+chat.ErrorMessage(err), "bad resource")
	}
	s.actor = chat.Actor{User: u.ID, Name: u.Name, Device: chat.DeviceID(res), Conn: s.id}
	sent, old := s.srv.devices.claim(s.deviceKey(), s)
	s.sent = sent
	if old != nil {
		old.replaced()
	}
	s.queue = jid(s.srv.cfg.AppKey, u.Name, userDomain)
	s.log = s.log.With("user_id", u.ID)
	s.token, s.tokenHash = token, chat.TokenHash(token)
	s.budget = s.srv.hub.AddUser(u.ID, s.srv.cfg.UserRatePerSec, s.srv.cfg.UserRateBurst)
	if err := s.subscribe(); err != nil {
		s.log.Error("msync subscribe", "err", err)
		return s.refuse("Sorry, server error", "internal error")
	}
	s.provisioned.Store(true)
	s.slot.Authenticated()
	// The token's own expiry, absolute: the SDK counts down to it
	// (onTokenWillExpire at 80%, onTokenExpired at 100%).
	expires, _ := json.Marshal(map[string]int64{"expires_in": until.UnixMilli()})
	s.send(s.frame(pb.MSync_PROVISION, &pb.Provision{
		Status: ok(), Resource: proto.String(res), AuthToken: proto.String(string(expires)),
	}))
	return true
}

// deviceKey names the session's device; set at PROVISION.
func (s *session) deviceKey() deviceKey { return deviceKey{s.actor.User, s.actor.Device} }

// authRefusal is the PROVISION refusal of an Authenticate error: the
// SDK's reason, and why for the close frame. Only a token the service
// rejected is told as a bad token: a failure of the server (internal,
// unavailable, a context error) is told as one, so that the app retries
// instead of asking for the password again.
func authRefusal(err error) (reason, why string) {
	code := chat.ErrorCode(err)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		code == chat.CodeInternal || code == chat.CodeUnavailable:
		return "Sorry, server error", "server error"
	case code == chat.CodeTokenExpired:
		return "Sorry, token expired", "token expired"
	}
	return "Sorry, token or password does not match login info", "bad token"
}

// refuse answers a PROVISION with errorCode 1 and reason, and closes.
func (s *session) refuse(reason, why string) bool {
	s.send(s.frame(pb.MSync_PROVISION, &pb.Provision{Status: fail(reason)}))
	s.close(closeAuthFailed, why, true)
	return false
}

// unread answers UNREAD with the user's queue when a pull would bring
// something: messages or statistics past the positions reached.
//
// Over the read limit it answers an empty list without reading the
// store: the SDK asks again with its next heartbeat.
func (s *session) unread() {
	dl := &pb.CommUnreadDL{Status: ok(), Timestamp: proto.Uint64(unixMs(s.srv.now()))}
	if s.allowRead() && s.pending() {
		dl.Unread = []*pb.MetaQueue{{Queue: s.queue, N: proto.Uint32(1)}}
	}
	s.send(s.frame(pb.MSync_UNREAD, dl))
}

// allowRead charges an UNREAD or a pull to the connection's read bucket
// and to the user's budget on this node (shared with uploads and /ws):
// both read the store, and the SDK sends them unasked.
func (s *session) allowRead() bool {
	now := s.srv.now()
	return s.reads.Allow(now) && s.budget.Allow(now)
}

// pending reports whether a pull of the user's queue would bring
// something. It reads without confirming (ack 0 is below any position).
// On a failure it says yes: the pull reports the error.
func (s *session) pending() bool {
	if !s.pull.pulled {
		return true // first cycle of this connection: the offline messages and counts
	}
	mp, err := s.srv.svc.Sync(s.ctx, s.actor, 0, 1)
	if err != nil || len(mp.Messages) > 0 {
		return true
	}
	sp, err := s.srv.svc.ReceiptStats(s.ctx, s.actor, 0, 1)
	return err != nil || len(sp.Entries) > 0
}

// pullQueue answers a pull. A pull of the user's queue first confirms
// what the previous answer carried: the SDK pulls again only once it has
// handled an answer, so everything answered before is handled. Then it
// answers the next page of the message stream and, once that is caught
// up, the changed read counts as one STATISTIC meta.
//
// Over the read limit it answers that the queue is empty, without
// reading or confirming anything: the positions stay where they were,
// and the next UNREAD the limit lets through lists the queue again.
func (s *session) pullQueue(q *pb.JID) {
	dl := &pb.CommSyncDL{Status: ok(), Queue: q, IsLast: proto.Bool(true)}
	if !s.allowRead() || !strings.EqualFold(q.GetName(), s.actor.Name) || isGroupJID(q) {
		s.send(s.frame(pb.MSync_SYNC, dl)) // a queue seen never fills
		return
	}
	gen := s.notices.Load()
	pg, err := s.nextPage()
	if err == nil && !s.answerCounts(dl, &pg) {
		// Nothing to answer, and something passed: confirm it now.
		if err = s.confirmNow(); err == nil {
			s.send(s.frame(pb.MSync_SYNC, dl))
		}
	}
	if err != nil {
		s.log.Error("msync pull", "err", err)
		dl.Status, dl.Metas = fail("Sorry, "+chat.ErrorMessage(err)), pg.metas
		s.send(s.frame(pb.MSync_SYNC, dl))
	}
	if s.pull.statsDone {
		s.goLive()
	}
	if s.notices.Load() != gen {
		// A NOTICE queued while the stream was read may have reached the
		// SDK while it was still pulling, and been dropped.
		s.notice()
	}
}

// page is what nextPage read: the message metas, the read counts not
// yet raised, and whether the stats were answered before this page.
type page struct {
	metas     []*pb.Meta
	counts    []chat.ReceiptCount
	statsDone bool // the statistics before this connection were answered
	more      bool
	skipped   bool // items were passed over: nothing to show for them
}

// answerCounts raises the page's counts, adds them to dl and queues it,
// all under s.mu, as pushCount does: a live push of a higher count is
// queued before or after it, never between. It reports false, queueing
// nothing, when the answer would carry nothing although something was
// passed over (the caller confirms, then answers).
func (s *session) answerCounts(dl *pb.CommSyncDL, pg *page) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := pg.counts[:0]
	for _, c := range pg.counts {
		if s.marks.Raise(c.Msg, c.Count) {
			st = append(st, c)
		}
	}
	skipped := pg.skipped || len(st) < len(pg.counts)
	metas, err := s.countMetas(st, pg.statsDone)
	if err != nil {
		s.log.Error("msync read counts not answered", "err", err)
	}
	metas = append(pg.metas, metas...)
	if len(metas) == 0 && skipped && !pg.more {
		return false
	}
	dl.Metas = metas
	if pg.more {
		dl.IsLast = proto.Bool(false)
		dl.NextKey = proto.Uint64(s.srv.freshID())
	}
	s.send(s.frame(pb.MSync_SYNC, dl))
	return true
}

// countMetas are the metas of raised counts: changed while the user was
// away (before statsDone), one STATISTIC meta (onStatisticMessage);
// changed while online and not pushed live (a push lost, or not there
// yet), READ_ACK metas, as a live push would have been (onReadMessage).
func (s *session) countMetas(st []chat.ReceiptCount, statsDone bool) ([]*pb.Meta, error) {
	if len(st) == 0 {
		return nil, nil
	}
	if !statsDone {
		meta, err := statisticMeta(s.srv.freshID(), s.srv.now(), s.queue, st)
		if err != nil {
			return nil, err
		}
		return []*pb.Meta{meta}, nil
	}
	metas := make([]*pb.Meta, 0, len(st))
	for i := range st {
		meta, err := readAckMeta(s.srv.cfg.AppKey, s.srv.freshID(), countPush(&st[i]))
		if err != nil {
			return metas, err
		}
		metas = append(metas, meta)
	}
	return metas, nil
}

// nextPage confirms the previous answer and reads the next one: a page
// of messages and, once they are caught up, the changed read counts. It
// reads the store and takes no lock.
func (s *session) nextPage() (page, error) {
	var pg page
	mp, err := s.srv.svc.Sync(s.ctx, s.actor, s.pull.msgNext, s.srv.cfg.PullPage)
	if err != nil {
		return pg, err
	}
	s.pull.msgNext, s.pull.pulled = mp.Next, true
	for i := range mp.Messages {
		m := &mp.Messages[i]
		if s.own(m) || vendorSkips(m) {
			pg.skipped = true
			continue
		}
		meta, err := messageMeta(s.srv.cfg.AppKey, m)
		if err != nil {
			s.log.Error("msync message not sent", "msg_id", m.ID, "err", err)
			pg.skipped = true
			continue
		}
		pg.metas = append(pg.metas, meta)
	}
	if mp.More {
		pg.more = true
		return pg, nil
	}
	sp, err := s.srv.svc.ReceiptStats(s.ctx, s.actor, s.pull.statNext, 0)
	if err != nil {
		return pg, err
	}
	s.pull.statNext = sp.Next
	pg.counts, pg.statsDone, pg.more = sp.Entries, s.pull.statsDone, sp.More
	s.pull.statsDone = s.pull.statsDone || !sp.More
	return pg, nil
}

// confirmNow confirms the positions of an answer that carries nothing:
// the SDK does not pull again after it, and what it passed (the user's
// own messages and receipts, counts pushed live) must not come back on
// the next connection. The items read with it are not confirmed: the
// next pull returns them.
func (s *session) confirmNow() error {
	if _, err := s.srv.svc.Sync(s.ctx, s.actor, s.pull.msgNext, 1); err != nil {
		return err
	}
	_, err := s.srv.svc.ReceiptStats(s.ctx, s.actor, s.pull.statNext, 1)
	return err
}

// countPush is the live push of a receipt count read from the
// statistics stream.
func countPush(c *chat.ReceiptCount) *chat.ReceiptPush {
	return &chat.ReceiptPush{
		Msg: c.Msg, Group: c.Group, Sender: c.Sender, Count: c.Count, Reader: c.LastName, ReaderID: c.LastReader,
		AckContent: c.LastContent, At: c.LastAt.UnixMilli(), StatSeq: c.StatSeq,
	}
}

// own reports whether m is not to be pulled by this connection: a
// message it sent itself (the SDK has it from the send's answer), or a
// receipt the user sent (the SDK knows no receipt of its own).
func (s *session) own(m *chat.Message) bool {
	if m.From != s.actor.User {
		return false
	}
	return m.Type.IsReceipt() || s.sent.has(m.ID)
}

// vendorSkips reports whether m has no form in the vendor protocol and is
// passed over by a pull: a reminder (chat.TypeRemind). The vendor SDK has
// no reminder event, and sending one as a chat message would show the
// member a message nobody wrote; the member's seen clients get it.
func vendorSkips(m *chat.Message) bool { return m.Type == chat.TypeRemind }

// notice queues a NOTICE of the user's queue.
func (s *session) notice() {
	s.notices.Add(1)
	s.send(s.frame(pb.MSync_NOTICE, &pb.CommNotice{Queue: s.queue}))
}

// answer queues the answer to an uploaded meta.
func (s *session) answer(meta *pb.Meta, st *pb.Status, serverID uint64, at time.Time) {
	s.send(s.frame(pb.MSync_SYNC, &pb.CommSyncDL{
		Status: st, MetaId: proto.Uint64(meta.GetId()), ServerId: proto.Uint64(serverID),
		Timestamp: proto.Uint64(unixMs(at)),
	}))
}

// sdkReasons are the refusal reasons of the chat codes that the SDK
// maps to its own error types (easemob-wire.md section 4): "group not
// found" is GROUP_NOT_EXIST, "not in group or chatroom" GROUP_NOT_JOINED,
// "Sorry, message does not exist" MODIFY_MESSAGE_NOT_EXIST. Every other
// code is refused with the service's message, which the SDK rejects
// with as SERVER_UNKNOWN_ERROR.
var sdkReasons = map[chat.Code]string{
	chat.CodeGroupNotFound:   "group not found",
	chat.CodeNotMember:       "not in group or chatroom",
	chat.CodeMessageNotFound: "Sorry, message does not exist",
}

// refusal is the status of a service error: always FAIL (fail), with
// the SDK's reason for the code where it has one.
func refusal(err error) *pb.Status {
	if r, ok := sdkReasons[chat.ErrorCode(err)]; ok {
		return fail(r)
	}
	return fail(chat.ErrorMessage(err))
}

// upload handles an uploaded meta: the STATISTIC the SDK sends after
// login and each UNREAD answer gets no answer; CHAT metas are messages
// and acks; anything else is refused, so the SDK's call fails at once.
func (s *session) upload(meta *pb.Meta) {
	if meta.GetNs() == pb.Meta_STATISTIC {
		return
	}
	if now := s.srv.now(); !s.limiter.Allow(now) || !s.budget.Allow(now) {
		s.answer(meta, fail("Sorry, traffic limit: too many messages, retry later"), 0, now)
		return
	}
	switch meta.GetNs() {
	case pb.Meta_CHAT:
	default:
		s.answer(meta, fail(fmt.Sprintf("Sorry, %s is not supported yet", meta.GetNs())), 0, s.srv.now())
		return
	}
	var body pb.MessageBody
	if err := proto.Unmarshal(meta.GetPayload(), &body); err != nil {
		s.answer(meta, fail("Sorry, format is incorrect"), 0, s.srv.now())
		return
	}
	group := isGroupJID(meta.GetTo()) || body.GetType() == pb.MessageBody_GROUPCHAT
	to := body.GetTo().GetName()
	if to == "" {
		to = meta.GetTo().GetName()
	}
	switch body.GetType() {
	case pb.MessageBody_CHAT, pb.MessageBody_GROUPCHAT:
		s.sendMessage(meta, &body, group, to)
	case pb.MessageBody_READ_ACK:
		s.readAck(meta, &body, group, to)
	case pb.MessageBody_DELIVER_ACK:
		err := s.srv.svc.PeerReceipt(s.ctx, s.actor, chat.EventDelivered, to, chat.MsgID(body.GetAckMessageId()))
		s.answerErr(meta, err, body.GetAckMessageId())
	case pb.MessageBody_CHANNEL_ACK:
		ct := chat.SingleChat
		if group {
			ct = chat.GroupChat
		}
		_, err := s.srv.svc.AckConversation(s.ctx, s.actor, ct, to)
		s.answerErr(meta, err, meta.GetId())
	default:
		s.answer(meta, fail(fmt.Sprintf("Sorry, %s messages are not supported yet", body.GetType())), 0, s.srv.now())
	}
}

// answerErr answers an ack: serverID on success, the refusal otherwise.
func (s *session) answerErr(meta *pb.Meta, err error, serverID uint64) {
	if err != nil {
		s.answer(meta, refusal(err), 0, s.srv.now())
		return
	}
	s.answer(meta, ok(), serverID, s.srv.now())
}

// sendMessage sends a text or custom message.
func (s *session) sendMessage(meta *pb.Meta, body *pb.MessageBody, group bool, to string) {
	o, err := outgoing(meta, body, group, to)
	if err != nil {
		s.answer(meta, fail("Sorry, "+err.Error()), 0, s.srv.now())
		return
	}
	m, err := s.srv.svc.Send(s.ctx, s.actor, o)
	if err != nil {
		s.answer(meta, refusal(err), 0, s.srv.now())
		return
	}
	s.sent.add(m.ID)
	s.answer(meta, ok(), uint64(m.ID), m.SentAt)
}

// outgoing converts an uploaded message into what the service sends.
func outgoing(meta *pb.Meta, body *pb.MessageBody, group bool, to string) (chat.Outgoing, error) {
	o := chat.Outgoing{LocalID: strconv.FormatUint(meta.GetId(), 10), ChatType: chat.SingleChat, To: to}
	if group {
		o.ChatType = chat.GroupChat
		o.AllowGroupAck = body.GetMsgConfig().GetAllowGroupAck()
	}
	if len(body.GetContents()) != 1 {
		return o, fmt.Errorf("a message has one content, not %d", len(body.GetContents()))
	}
	c := body.GetContents()[0]
	switch c.GetType() {
	case pb.MessageBody_Content_TEXT:
		o.Type, o.Text = chat.TypeText, c.GetText()
	case pb.MessageBody_Content_CUSTOM:
		exts, err := extJSON(c.GetCustomExts())
		if err != nil {
			return o, fmt.Errorf("format is incorrect: customExts: %w", err)
		}
		o.Type, o.CustomEvent, o.CustomExts = chat.TypeCustom, c.GetCustomEvent(), exts
	default:
		return o, fmt.Errorf("%s messages are not supported yet", c.GetType())
	}
	ext, err := extJSON(body.GetExt())
	if err != nil {
		return o, fmt.Errorf("format is incorrect: %w", err)
	}
	o.Ext = ext
	return o, nil
}

// readAck handles a read ack: in a group, the service's Ack (answered
// like a send); in a single chat, a peer read receipt.
func (s *session) readAck(meta *pb.Meta, body *pb.MessageBody, group bool, to string) {
	mid := chat.MsgID(body.GetAckMessageId())
	if !group {
		s.answerErr(meta, s.srv.svc.PeerReceipt(s.ctx, s.actor, chat.EventPeerRead, to, mid), uint64(mid))
		return
	}
	gid, err := strconv.ParseInt(to, 10, 64)
	if err != nil || gid <= 0 {
		s.answer(meta, fail("group not found"), 0, s.srv.now())
		return
	}
	rs, err := s.srv.svc.Ack(s.ctx, s.actor, chat.GroupID(gid), []chat.AckItem{{Msg: mid, Content: body.GetAckContent()}})
	if err == nil && len(rs) == 1 {
		err = rs[0].Err
	}
	s.answerErr(meta, err, uint64(mid))
}
