-- The initial schema. Migrations are append-only: never edit a released
-- file, add the next one. Times are Unix milliseconds, JSON is text.

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    name          TEXT    NOT NULL UNIQUE,
    password_hash BLOB,
    created_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    hash       BLOB    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE devices (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    device_id TEXT    NOT NULL,
    msg_seq   INTEGER NOT NULL,
    stat_seq  INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;

CREATE TABLE seqs (
    name TEXT    NOT NULL PRIMARY KEY,
    v    INTEGER NOT NULL
);
INSERT INTO seqs (name, v) VALUES ('msg', 0), ('stat', 0);

CREATE TABLE nodes (
    slot       INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL
);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY, -- set by the caller
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    public      INTEGER NOT NULL,
    owner_id    INTEGER NOT NULL,
    max_members INTEGER NOT NULL,
    members     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    ext         TEXT,
    destroyed   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
    group_id  INTEGER NOT NULL REFERENCES groups (id),
    user_id   INTEGER NOT NULL REFERENCES users (id),
    role      TEXT    NOT NULL,
    joined_at INTEGER NOT NULL,
    join_seq  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id, group_id);
CREATE INDEX members_join ON members (group_id, join_seq, user_id);

CREATE TABLE member_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    seq      INTEGER NOT NULL
);
CREATE INDEX member_events_group ON member_events (group_id, user_id, id);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    seq          INTEGER NOT NULL UNIQUE,
    conv         TEXT    NOT NULL,
    local_id     TEXT, -- NULL when the client sent none, so that it is not unique
    type         TEXT    NOT NULL,
    chat_type    TEXT    NOT NULL,
    sender_id    INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    group_id     INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    custom_event TEXT    NOT NULL,
    custom_exts  TEXT,
    ext          TEXT,
    allow_ack    INTEGER NOT NULL,
    sent_at      INTEGER NOT NULL,
    UNIQUE (sender_id, local_id)
);
CREATE INDEX messages_conv ON messages (conv, seq);
CREATE INDEX messages_ack ON messages (sender_id, sent_at) WHERE allow_ack;

CREATE TABLE convs (
    user_id   INTEGER NOT NULL,
    conv      TEXT    NOT NULL,
    chat_type TEXT    NOT NULL,
    peer_id   INTEGER NOT NULL,
    group_id  INTEGER NOT NULL,
    since_seq INTEGER NOT NULL,
    read_seq  INTEGER NOT NULL,
    PRIMARY KEY (user_id, conv)
) WITHOUT ROWID;

CREATE TABLE conv_heads (
    conv        TEXT    NOT NULL PRIMARY KEY,
    last_seq    INTEGER NOT NULL,
    last_msg_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE receipt_counts (
    msg_id       INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL,
    sender_id    INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    last_reader  INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    last_content TEXT    NOT NULL,
    stat_seq     INTEGER NOT NULL
);
CREATE INDEX receipt_counts_sender ON receipt_counts (sender_id, stat_seq);

CREATE TABLE receipt_reads (
    msg_id  INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    read_at INTEGER NOT NULL,
    content TEXT    NOT NULL,
    PRIMARY KEY (msg_id, user_id)
) WITHOUT ROWID;
CREATE INDEX receipt_reads_at ON receipt_reads (msg_id, read_at, user_id);

-- +goose Down
DROP TABLE receipt_reads;
DROP TABLE receipt_counts;
DROP TABLE conv_heads;
DROP TABLE convs;
DROP TABLE messages;
DROP TABLE member_events;
DROP TABLE members;
DROP TABLE groups;
DROP TABLE nodes;
DROP TABLE seqs;
DROP TABLE devices;
DROP TABLE tokens;
DROP TABLE users;
