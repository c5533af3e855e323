-- The webhook outbox: one row per event per target, written by chat in the
-- transaction of the ack or reminder it describes, deleted once delivered.
-- next_at is when the row is due: a claim sets it to the end of the
-- claimer's lease (lease_owner), so "due" (next_at <= now) also means "not
-- leased", and one index serves the claims: a deliverer claims the due rows
-- of each of its targets, each claim one range of outbox_due, so rows of a
-- target no node has (they stay due) cost the other claims nothing. A row
-- whose attempts ran out is failed and waits for an admin retry.
-- Append-only: never edit a released file, add the next one.

-- +goose Up
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    target      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    failed      INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    lease_owner TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (target, next_at, id) WHERE NOT failed;
CREATE INDEX outbox_failed ON outbox (id) WHERE failed;

-- +goose Down
DROP TABLE outbox;
