// Package sqlstore implements chat.Store on SQLite (modernc.org/sqlite, no
// cgo) and PostgreSQL (pgx). Open picks the engine from the DSN:
// "postgres://..." or "sqlite:<path>" (or a plain path). The store holds no
// rules: it stores and fetches, and package chat decides.
//
// # Code layout
//
// Files are named by noun (user.go, group.go, message.go, receipt.go), as
// in chat. Every query is written once in the SQL both engines share;
// dialect.go holds every difference (placeholders, error codes, the
// migration dialect). sqlite.go and postgres.go run transactions. Each
// exported Store method is one transaction: Read or Write runs a func(chat.Tx).
//
// # Schema
//
// Migrations are embedded SQL files applied at Open with goose
// (migrations/sqlite, migrations/postgres: the same tables, the engine's
// column types). They are append-only: a released file is never edited.
// All times are Unix milliseconds (the zero time is 0), JSON fields are
// text (nil is NULL), ids are 64-bit integers.
//
//	users(id, name UNIQUE, password_hash, created_at, receipts_off, receipts_since)
//	tokens(hash PK, user_id, created_at, expires_at)
//	devices(user_id, device_id, msg_seq, stat_seq, last_seen)
//	seqs(name PK, v)                      the sequence counters ("msg", "stat")
//	nodes(slot PK, name UNIQUE, expires_at)  id-generator slot leases
//	groups(id PK, ..., members, destroyed)   destroyed groups keep their row
//	members(group_id, user_id, role, joined_at, join_seq)
//	member_events(id, group_id, user_id, actor_id, kind, at, seq)
//	messages(id PK, seq UNIQUE, conv, local_id, ...; UNIQUE(sender_id, local_id); (conv, seq))
//	convs(user_id, conv, chat_type, peer_id, group_id, since_seq, read_seq)
//	conv_heads(conv PK, last_seq, last_msg_id)
//	receipt_counts(msg_id PK, group_id, sender_id, count, last_*, stat_seq; (sender_id, stat_seq))
//	receipt_reads(msg_id, user_id, read_at, content; PK(msg_id, user_id); (msg_id, read_at, user_id))
//
// A user's view of the message stream is the join of their convs rows with
// messages on (conv, seq > since_seq): SyncMessages walks the (conv, seq)
// index per conversation. An acknowledgement costs one row in
// receipt_reads (INSERT ... ON CONFLICT DO NOTHING RETURNING tells which
// reads were new) and one primary-key UPDATE of receipt_counts, whatever
// the size of the group; only the "who has not read" listing (Unread)
// walks the members.
//
// # Commit order of sequence numbers
//
// Message.Seq and ReceiptCount.StatSeq come from counters in seqs, and
// clients sync by "everything after k". That is only safe if a reader that
// sees number k also sees every number below k, i.e. numbers become
// visible in order. Tx.NextSeq is
//
//	UPDATE seqs SET v = v + n WHERE name = c RETURNING v
//
// On PostgreSQL (Write is READ COMMITTED) the UPDATE takes the counter
// row's lock and holds it until commit or rollback. A second transaction's
// NextSeq blocks on that lock; when the first commits, it re-reads the
// committed row and continues from there (if the first rolled back, it
// reuses its numbers: no gaps). So transactions holding numbers of one
// counter commit one after the other, in number order, on every node
// sharing the database. PostgreSQL makes a commit visible before it
// releases the transaction's locks, so by the time the next holder can
// commit, the previous numbers are visible to new snapshots. Reads run
// REPEATABLE READ READ ONLY: all statements of one Read see one snapshot.
// The cost is that the span from NextSeq to commit is serial, which is why
// callers take numbers late in the transaction.
//
// # SQLite: one writer
//
// SQLite allows one writer at a time; letting several connections race
// for the lock yields "database is locked" under load. The store opens
// two pools on the file: a writer with exactly one connection, whose
// transactions begin IMMEDIATE (the write lock is taken at BEGIN, never
// upgraded mid-transaction), and a reader pool of query_only connections.
// Write calls queue in Go for the writer connection; in WAL mode readers
// never wait for it. With one writer, numbers commit in order trivially.
// Settings: journal_mode=WAL, synchronous=FULL (NORMAL in WAL mode can lose
// the last commits on power loss, and an acknowledged Write must be
// durable), foreign_keys=ON, busy_timeout=10s for the rare waits that
// remain (WAL recovery, checkpoints, another process). The hot statements
// are prepared once per pool.
package sqlstore
