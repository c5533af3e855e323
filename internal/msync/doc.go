// Package msync is the WebSocket endpoint of the vendor Web SDK's own
// protocol (easemob-websdk 4.x, agora-chat 1.x): binary frames, one
// easemob.pb.MSync protobuf each (package pb), at /websocket. It is a
// second transport over the same chat.Service as internal/ws: every rule
// stays in chat; a session converts frames into Service calls and
// Service results and bus events into frames, and nothing else.
//
// The flow (../shared/reference/easemob-wire.md sections 3-5, and
// docs/easemob-compat.md): a PROVISION frame logs the connection in with
// an access token ("$t$<token>") and names the device (the resource);
// UNREAD is the heartbeat and lists the queues to pull; a SYNC frame
// either uploads a meta (a message or an ack, answered with metaId and
// serverId, or a refusal with errorCode 1 and a reason) or pulls a
// queue. Each user has one queue, named after the user: a pull answers
// from the device's gap-free message stream (chat.Service.Sync) and,
// once that is caught up, from its receipt statistics
// (chat.Service.ReceiptStats) as one STATISTIC meta; the next pull of
// the queue confirms what the previous answer carried. New messages and
// receipts are announced with NOTICE; live read counts are pushed as
// READ_ACK metas, never lower than a count pushed before (chat.HighWater).
//
// Goroutines: a session has a read loop (on a goroutine of its own:
// ServeHTTP returns once it has upgraded), which reads, decodes and
// handles each frame in order, and, only while there is something to
// write, a flusher, which writes the queued frames and the close frame:
// an idle session has no other goroutine; internal/wsconn writes pongs, the close
// echo and an idle session's ping, under its write lock. Live events
// reach sessions through the node's internal/hub, shared with
// internal/ws, which keeps each session on its user's and groups'
// topics; the hand-over only filters and enqueues into the bounded send
// queue, and a session whose queue overflows is closed. Short-lived goroutines check the token and
// ping an idle connection.
//
// Admission: before the upgrade a connection takes a slot in the node's
// internal/admit Admission, shared with internal/ws (Config.Admission),
// or is refused with 429 or 503; the slot stops counting as
// unauthenticated once PROVISION succeeds and is released when the
// connection ends.
package msync
