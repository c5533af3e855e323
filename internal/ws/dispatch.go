package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// A handler serves one op: it decodes the request data strictly, calls the
// service as the session's actor, and returns the reply data. auth, ping
// and receipt.ack (the hot path: no goroutine per request) are handled by
// the read loop itself (session.go).
type handler func(ctx context.Context, s *session, data json.RawMessage) (any, error)

// handlers is the op table: every op of docs/protocol.md but auth, ping
// and receipt.ack.
var handlers = map[string]handler{
	protocol.OpMsgSend:          op(send),
	protocol.OpSync:             op(syncOp),
	protocol.OpHistory:          op(history),
	protocol.OpConvList:         op(convList),
	protocol.OpConvAck:          op(convAck),
	protocol.OpReceiptRead:      op(peerReceipt(chat.EventPeerRead)),
	protocol.OpReceiptDelivered: op(peerReceipt(chat.EventDelivered)),
	protocol.OpReceiptReaders:   op(readers),
	protocol.OpReceiptUnread:    op(unread),
	protocol.OpReceiptCounts:    op(receiptCounts),
	protocol.OpReceiptStats:     op(stats),
	protocol.OpGroupCreate:      op(groupCreate),
	protocol.OpGroupInfo:        op(groupInfo),
	protocol.OpGroupAdd:         op(groupAdd),
	protocol.OpGroupRemove:      op(groupUser(removeMember)),
	protocol.OpGroupSetAdmin:    op(groupUser(setAdmin)),
	protocol.OpGroupRemoveAdmin: op(groupUser(removeAdmin)),
	protocol.OpGroupTransfer:    op(groupUser(transfer)),
	protocol.OpGroupLeave:       op(groupRef(leave)),
	protocol.OpGroupDestroy:     op(groupRef(destroy)),
	protocol.OpGroupMembers:     op(groupMembers),
	protocol.OpGroupAdmins:      op(groupAdmins),
	protocol.OpGroupMine:        op(groupMine),
	protocol.OpReceiptRemind:    op(remind),
	protocol.OpReceiptAnalytics: op(analytics),
	protocol.OpGroupPolicy:      op(groupPolicy),
	protocol.OpGroupSetPolicy:   op(groupSetPolicy),
	protocol.OpUserSettings:     op(userSettings),
	protocol.OpUserSetSettings:  op(userSetSettings),
}

// op adapts a typed handler: strict decoding of R, then f.
func op[R any](f func(ctx context.Context, s *session, r R) (any, error)) handler {
	return func(ctx context.Context, s *session, data json.RawMessage) (any, error) {
		r, err := decodeData[R](data)
		if err != nil {
			return nil, err
		}
		return f(ctx, s, r)
	}
}

// decodeData decodes request data strictly as an R.
func decodeData[R any](data json.RawMessage) (R, error) {
	var r R
	if err := chat.CheckJSONText(data); err != nil {
		return r, err // refused: the decoder would turn bad bytes into U+FFFD
	}
	if err := protocol.Decode(data, &r); err != nil {
		return r, badData(err)
	}
	return r, nil
}

// The envelope errors that close the connection with 4000; the text is
// the close reason.
var (
	errNotRequest = errors.New("frame is not a JSON request")
	errRequestID  = errors.New("request without a valid id")
)

// decodeRequest decodes the envelope of a request frame, once and
// strictly; the op's handler decodes its data. err is errNotRequest for a
// frame that is not a JSON object of the envelope's fields (malformed, a
// field of the wrong type, trailing data) and errRequestID for one
// without a usable id: both close the connection. strict is the error of
// a request with a key the envelope does not know, answered with
// bad_request (req is whole: the decoder reads past unknown keys).
func decodeRequest(b []byte) (req protocol.Request, strict, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	switch err := dec.Decode(&req); {
	case err == nil:
		if _, err := dec.Token(); err != io.EOF {
			return protocol.Request{}, nil, errNotRequest
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no error type for an unknown field, only this
		// text; TestFakeFrames pins what such frames get.
		// The decoder keeps only its first error: a field of the wrong
		// type after the unknown key would be hidden. Such a frame is
		// rare, so it is decoded again, leniently, to find out.
		if json.Unmarshal(b, new(protocol.Request)) != nil {
			return protocol.Request{}, nil, errNotRequest
		}
		strict = err
	default:
		return protocol.Request{}, nil, errNotRequest
	}
	if req.ID == "" || len(req.ID) > protocol.MaxRequestID {
		return protocol.Request{}, nil, errRequestID
	}
	return req, strict, nil
}

// badData is the error of request data that does not decode.
func badData(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return chat.Errorf(chat.CodeBadRequest, "invalid request: %s", msg)
}

func send(ctx context.Context, s *session, r protocol.Send) (any, error) {
	m, err := s.srv.svc.Send(ctx, s.actor, wire.Outgoing(r))
	if err != nil {
		return nil, err
	}
	return wire.SendReply(m), nil
}

func syncOp(ctx context.Context, s *session, r protocol.Sync) (any, error) {
	p, err := s.srv.svc.Sync(ctx, s.actor, r.Ack, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.SyncReply(p), nil
}

func history(ctx context.Context, s *session, r protocol.History) (any, error) {
	q, err := wire.HistoryQuery(r)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.History(ctx, s.actor, q)
	if err != nil {
		return nil, err
	}
	return wire.HistoryReply(p), nil
}

func convList(ctx context.Context, s *session, r protocol.ConvList) (any, error) {
	p, err := s.srv.svc.Conversations(ctx, s.actor, r.Cursor, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.ConvListReply(p), nil
}

func convAck(ctx context.Context, s *session, r protocol.ConvAck) (any, error) {
	n, err := s.srv.svc.AckConversation(ctx, s.actor, chat.ChatType(r.ChatType), r.To)
	if err != nil {
		return nil, err
	}
	return protocol.ConvAckReply{ReceiptsCounted: n}, nil
}

// receiptAck serves receipt.ack, decoded (r) from request id, from the
// read loop without a goroutine: the acks go to the service's ack batcher
// (chat.Service.AckAsync) and the reply is encoded and queued on the
// batcher's goroutine when their batch has committed. The read loop waits
// while the batcher's queue is full (backpressure), and the request holds
// its worker slot (MaxInflight) until it is answered, like every other
// op's.
func (s *session) receiptAck(id string, r protocol.ReceiptAck) {
	req := protocol.Request{ID: id, Op: protocol.OpReceiptAck}
	ids := func() (group, msg string) {
		if len(r.Items) > 0 {
			msg = r.Items[0].MsgID
		}
		return r.GroupID, msg
	}
	g, items, err := ackArgs(r)
	if err == nil {
		s.workers.Add(1)
		// AckAsync waits while the batcher's queue is full: a stall.
		s.stall(true)
		defer s.stall(false)
		err = s.srv.svc.AckAsync(s.ctx, s.actor, g, items, func(rs []chat.AckResult, err error) {
			defer s.workers.Done()
			defer func() { <-s.sem }()
			if err != nil {
				s.replyErrorRef(req, err, ids)
				return
			}
			rep := wire.ReceiptAckReply(r.Items, rs)
			if f, ok := encodeFastAckReply(id, rep); ok && len(f) <= s.srv.cfg.SendQueueBytes {
				s.send(outFrame{b: f, kind: req.Op})
				return
			}
			s.reply(req, rep)
		})
		if err != nil {
			s.workers.Done()
		}
	}
	if err != nil {
		<-s.sem
		s.replyErrorRef(req, err, ids)
	}
}

// ackArgs converts the data of receipt.ack for the service.
func ackArgs(r protocol.ReceiptAck) (chat.GroupID, []chat.AckItem, error) {
	g, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return 0, nil, err
	}
	items, err := wire.AckItems(r.Items)
	if err != nil {
		return 0, nil, err
	}
	return g, items, nil
}

func peerReceipt(kind chat.EventKind) func(ctx context.Context, s *session, r protocol.PeerAck) (any, error) {
	return func(ctx context.Context, s *session, r protocol.PeerAck) (any, error) {
		id, err := chat.ParseMsgID(r.MsgID)
		if err != nil {
			return nil, err
		}
		if err := s.srv.svc.PeerReceipt(ctx, s.actor, kind, r.To, id); err != nil {
			return nil, err
		}
		return protocol.Empty{}, nil
	}
}

func parseRef(groupID, msgID string) (chat.GroupID, chat.MsgID, error) {
	g, err := chat.ParseGroupID(groupID)
	if err != nil {
		return 0, 0, err
	}
	m, err := chat.ParseMsgID(msgID)
	if err != nil {
		return 0, 0, err
	}
	return g, m, nil
}

func readers(ctx context.Context, s *session, r protocol.Readers) (any, error) {
	g, m, err := parseRef(r.GroupID, r.MsgID)
	if err != nil {
		return nil, err
	}
	order, err := chat.ParseOrder(r.Order)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.Readers(ctx, s.actor, g, m, order, r.Cursor, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.ReadersReply(p), nil
}

func unread(ctx context.Context, s *session, r protocol.ReceiptPage) (any, error) {
	g, m, err := parseRef(r.GroupID, r.MsgID)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.Unread(ctx, s.actor, g, m, r.Cursor, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.UnreadReply(p), nil
}

func receiptCounts(ctx context.Context, s *session, r protocol.ReceiptCounts) (any, error) {
	g, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return nil, err
	}
	ids, err := wire.MsgIDs(r.MsgIDs)
	if err != nil {
		return nil, err
	}
	counts, err := s.srv.svc.ReadCounts(ctx, s.actor, g, ids, r.WithUnread)
	if err != nil {
		return nil, err
	}
	return wire.ReceiptCountsReply(counts), nil
}

func stats(ctx context.Context, s *session, r protocol.Stats) (any, error) {
	p, err := s.srv.svc.ReceiptStats(ctx, s.actor, r.Ack, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.StatsReply(p), nil
}

func groupCreate(ctx context.Context, s *session, r protocol.GroupCreate) (any, error) {
	g, err := s.srv.svc.CreateGroup(ctx, s.actor, wire.GroupSpec(r, ""))
	if err != nil {
		return nil, err
	}
	// The service tells the owner's and the members' devices through
	// their user topics (they subscribe on that event); subscribe this
	// session before the reply so that nothing sent next is missed.
	if err := s.srv.hub.Add(chat.GroupTopic(g.ID), s); err != nil {
		s.logger().Error("subscribe group", "group_id", int64(g.ID), "err", err)
	}
	return wire.Group(g), nil
}

func groupInfo(ctx context.Context, s *session, r protocol.GroupRef) (any, error) {
	id, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return nil, err
	}
	g, err := s.srv.svc.GroupInfo(ctx, s.actor, id)
	if err != nil {
		return nil, err
	}
	return wire.Group(g), nil
}

func groupAdd(ctx context.Context, s *session, r protocol.GroupAdd) (any, error) {
	id, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return nil, err
	}
	us, err := s.srv.svc.AddMembers(ctx, s.actor, id, r.Users)
	if err != nil {
		return nil, err
	}
	return wire.GroupAddReply(us), nil
}

func groupUser(f func(ctx context.Context, s *session, g chat.GroupID, user string) error) func(context.Context, *session, protocol.GroupUser) (any, error) {
	return func(ctx context.Context, s *session, r protocol.GroupUser) (any, error) {
		id, err := chat.ParseGroupID(r.GroupID)
		if err != nil {
			return nil, err
		}
		if err := f(ctx, s, id, r.User); err != nil {
			return nil, err
		}
		return protocol.Empty{}, nil
	}
}

func removeMember(ctx context.Context, s *session, g chat.GroupID, user string) error {
	return s.srv.svc.RemoveMember(ctx, s.actor, g, user)
}

func setAdmin(ctx context.Context, s *session, g chat.GroupID, user string) error {
	return s.srv.svc.SetAdmin(ctx, s.actor, g, user, true)
}

func removeAdmin(ctx context.Context, s *session, g chat.GroupID, user string) error {
	return s.srv.svc.SetAdmin(ctx, s.actor, g, user, false)
}

func transfer(ctx context.Context, s *session, g chat.GroupID, user string) error {
	return s.srv.svc.TransferOwner(ctx, s.actor, g, user)
}

func leave(ctx context.Context, s *session, g chat.GroupID) error {
	return s.srv.svc.Leave(ctx, s.actor, g)
}

func destroy(ctx context.Context, s *session, g chat.GroupID) error {
	return s.srv.svc.DestroyGroup(ctx, s.actor, g)
}

func groupRef(f func(ctx context.Context, s *session, g chat.GroupID) error) func(context.Context, *session, protocol.GroupRef) (any, error) {
	return func(ctx context.Context, s *session, r protocol.GroupRef) (any, error) {
		id, err := chat.ParseGroupID(r.GroupID)
		if err != nil {
			return nil, err
		}
		if err := f(ctx, s, id); err != nil {
			return nil, err
		}
		return protocol.Empty{}, nil
	}
}

func groupMembers(ctx context.Context, s *session, r protocol.GroupMembers) (any, error) {
	id, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.Members(ctx, s.actor, id, r.Cursor, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.GroupMembersReply(p), nil
}

func groupAdmins(ctx context.Context, s *session, r protocol.GroupRef) (any, error) {
	id, err := chat.ParseGroupID(r.GroupID)
	if err != nil {
		return nil, err
	}
	admins, err := s.srv.svc.Admins(ctx, s.actor, id)
	if err != nil {
		return nil, err
	}
	return wire.GroupAdminsReply(admins), nil
}

func groupMine(ctx context.Context, s *session, r protocol.GroupMine) (any, error) {
	p, err := s.srv.svc.MyGroups(ctx, s.actor, r.Cursor, r.Limit)
	if err != nil {
		return nil, err
	}
	return wire.GroupMineReply(p), nil
}

func remind(ctx context.Context, s *session, r protocol.Remind) (any, error) {
	g, m, err := parseRef(r.Group, r.MsgID)
	if err != nil {
		return nil, err
	}
	users, err := wire.RemindUsers(r.Users)
	if err != nil {
		return nil, err
	}
	res, err := s.srv.svc.Remind(ctx, s.actor, g, m, users)
	if err != nil {
		return nil, err
	}
	return wire.RemindReply(res), nil
}

func analytics(ctx context.Context, s *session, r protocol.MsgRef) (any, error) {
	g, m, err := parseRef(r.Group, r.MsgID)
	if err != nil {
		return nil, err
	}
	a, err := s.srv.svc.ReadAnalytics(ctx, s.actor, g, m)
	if err != nil {
		return nil, err
	}
	return wire.AnalyticsReply(a), nil
}

func groupPolicy(ctx context.Context, s *session, r protocol.GroupPolicyRef) (any, error) {
	g, err := chat.ParseGroupID(r.Group)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.ReceiptPolicy(ctx, s.actor, g)
	if err != nil {
		return nil, err
	}
	return wire.Policy(p), nil
}

func groupSetPolicy(ctx context.Context, s *session, r protocol.SetPolicy) (any, error) {
	g, err := chat.ParseGroupID(r.Group)
	if err != nil {
		return nil, err
	}
	p, err := s.srv.svc.SetReceiptPolicy(ctx, s.actor, g, wire.PolicyUpdate(r))
	if err != nil {
		return nil, err
	}
	return wire.Policy(p), nil
}

func userSettings(ctx context.Context, s *session, _ protocol.Empty) (any, error) {
	st, err := s.srv.svc.Settings(ctx, s.actor)
	if err != nil {
		return nil, err
	}
	return wire.Settings(st), nil
}

func userSetSettings(ctx context.Context, s *session, r protocol.SetSettings) (any, error) {
	st, err := s.srv.svc.SetSettings(ctx, s.actor, wire.SettingsUpdate(r))
	if err != nil {
		return nil, err
	}
	return wire.Settings(st), nil
}
