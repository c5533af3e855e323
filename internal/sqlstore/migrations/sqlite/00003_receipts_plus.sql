-- Receipts beyond counts (issue 13): the per-user privacy switch (with
-- receipts_since, the message sequence head when receipts were last
-- turned on: a read counts for a message only if they were on, without a
-- break, since before it was sent), the per-group receipt policy (NULL:
-- the server's default), the eligible readers snapshot at send, the
-- milestones (Unix ms, 0: not reached), and reminders (rows of messages
-- of type 'remind', counted per member in receipt_reminders).
-- Append-only: never edit a released file, add the next one.

-- +goose Up
ALTER TABLE users ADD COLUMN receipts_off INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN receipts_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN receipt_request TEXT;
ALTER TABLE groups ADD COLUMN receipt_visibility TEXT;
ALTER TABLE groups ADD COLUMN receipt_lists INTEGER;
ALTER TABLE receipt_counts ADD COLUMN eligible INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipt_counts ADD COLUMN reached_50_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipt_counts ADD COLUMN reached_90_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipt_counts ADD COLUMN reached_all_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipt_counts ADD COLUMN reminds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipt_counts ADD COLUMN remind_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE receipt_reminders (
    msg_id  INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    times   INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (msg_id, user_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE receipt_reminders;
DELETE FROM messages WHERE type = 'remind';
ALTER TABLE receipt_counts DROP COLUMN remind_at;
ALTER TABLE receipt_counts DROP COLUMN reminds;
ALTER TABLE receipt_counts DROP COLUMN reached_all_at;
ALTER TABLE receipt_counts DROP COLUMN reached_90_at;
ALTER TABLE receipt_counts DROP COLUMN reached_50_at;
ALTER TABLE receipt_counts DROP COLUMN eligible;
ALTER TABLE groups DROP COLUMN receipt_lists;
ALTER TABLE groups DROP COLUMN receipt_visibility;
ALTER TABLE groups DROP COLUMN receipt_request;
ALTER TABLE users DROP COLUMN receipts_since;
ALTER TABLE users DROP COLUMN receipts_off;
