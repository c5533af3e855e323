-- Single-chat receipts (read, delivery, channel) are stored in the message
-- stream as rows of messages with that type, so that sync brings them to
-- the peer's devices that missed them. ack_msg_id is the message a read or
-- delivery receipt acknowledges (0 otherwise). Append-only: never edit a
-- released file, add the next one.

-- +goose Up
ALTER TABLE messages ADD COLUMN ack_msg_id INTEGER NOT NULL DEFAULT 0;

-- +goose Down
DELETE FROM messages WHERE type IN ('read', 'delivery', 'channel');
ALTER TABLE messages DROP COLUMN ack_msg_id;
