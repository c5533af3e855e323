package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"seen/internal/chat"
)

const (
	groupCols = `g.id, g.name, g.description, g.public, g.owner_id, g.max_members, g.members, g.created_at, g.ext,
g.receipt_request, g.receipt_visibility, g.receipt_lists`
	memberCols = `m.group_id, m.user_id, u.name, m.role, m.joined_at, m.join_seq, u.receipts_off, u.receipts_since`
	memberFrom = ` FROM members m JOIN users u ON u.id = m.user_id `
)

var (
	sqlInsertGroup = `INSERT INTO groups (id, name, description, public, owner_id, max_members, members, created_at, ext)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlGroup       = hot(`SELECT ` + groupCols + ` FROM groups g WHERE g.id = ? AND NOT g.destroyed`)
	sqlUpdateGroup = `UPDATE groups SET name = ?, description = ?, public = ?, max_members = ?, owner_id = ?, ext = ?
WHERE id = ? AND NOT destroyed`
	sqlSetGroupPolicy  = `UPDATE groups SET receipt_request = ?, receipt_visibility = ?, receipt_lists = ? WHERE id = ? AND NOT destroyed`
	sqlDestroyGroup    = `UPDATE groups SET destroyed = ?, members = 0 WHERE id = ? AND NOT destroyed`
	sqlDeleteGroupConv = `DELETE FROM convs WHERE conv = ? AND user_id IN (SELECT user_id FROM members WHERE group_id = ?)`
	sqlDeleteMembers   = `DELETE FROM members WHERE group_id = ?`

	sqlInsertMember = `INSERT INTO members (group_id, user_id, role, joined_at, join_seq) VALUES (?, ?, ?, ?, ?)`
	sqlInsertConv   = `INSERT INTO convs (user_id, conv, chat_type, peer_id, group_id, since_seq, read_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, conv) DO UPDATE SET since_seq = excluded.since_seq, read_seq = excluded.read_seq`
	sqlAddMembers   = `UPDATE groups SET members = members + ? WHERE id = ?`
	sqlMember       = hot(`SELECT ` + memberCols + memberFrom + `WHERE m.group_id = ? AND m.user_id = ?`)
	sqlDeleteMember = `DELETE FROM members WHERE group_id = ? AND user_id = ?`
	sqlDeleteConv   = `DELETE FROM convs WHERE user_id = ? AND conv = ?`
	sqlSetRole      = `UPDATE members SET role = ? WHERE group_id = ? AND user_id = ?`
	sqlMembers      = `SELECT ` + memberCols + memberFrom + `WHERE m.group_id = ? AND (m.join_seq, m.user_id) > (?, ?) ORDER BY m.join_seq, m.user_id LIMIT ?`
	sqlAdmins       = `SELECT ` + memberCols + memberFrom + `WHERE m.group_id = ? AND m.role IN (?, ?) ORDER BY m.join_seq, m.user_id`
	sqlGroupsOf     = `SELECT ` + groupCols + ` FROM members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? AND m.group_id > ? AND NOT g.destroyed ORDER BY m.group_id LIMIT ?`
	sqlInsertEvent  = `INSERT INTO member_events (group_id, user_id, actor_id, kind, at, seq) VALUES (?, ?, ?, ?, ?, ?)`
	sqlEventCols    = `SELECT group_id, user_id, actor_id, kind, at, seq FROM member_events `
	sqlMemberEvents = sqlEventCols + `WHERE group_id = ? AND user_id = ? ORDER BY id`
	sqlGroupEvents  = sqlEventCols + `WHERE group_id = ? ORDER BY id`
)

func scanGroup(r rows, g *chat.Group) error {
	var req, vis sql.NullString
	var lists sql.NullBool
	err := r.Scan(&g.ID, &g.Name, &g.Description, &g.Public, &g.Owner, &g.MaxMembers, &g.Members, msTime{&g.CreatedAt}, jsonText{&g.Ext},
		&req, &vis, &lists)
	g.OwnPolicy = chat.PolicyUpdate{}
	if req.Valid {
		g.OwnPolicy.Request = &req.String
	}
	if vis.Valid {
		g.OwnPolicy.Visibility = &vis.String
	}
	if lists.Valid {
		g.OwnPolicy.Lists = &lists.Bool
	}
	return err
}

func scanMember(r rows, m *chat.Member) error {
	var role string
	err := r.Scan(&m.Group, &m.User, &m.Name, &role, msTime{&m.JoinedAt}, &m.JoinSeq, &m.ReceiptsOff, &m.ReceiptsSince)
	m.Role = chat.Role(role)
	return err
}

// SetGroupPolicy stores group id's own receipt policy; a nil field is
// stored as NULL (the server's default).
func (t *tx) SetGroupPolicy(ctx context.Context, id chat.GroupID, p chat.PolicyUpdate) error {
	var req, vis, lists any
	if p.Request != nil {
		req = *p.Request
	}
	if p.Visibility != nil {
		vis = *p.Visibility
	}
	if p.Lists != nil {
		lists = *p.Lists
	}
	n, err := t.q.exec(ctx, sqlSetGroupPolicy, req, vis, lists, int64(id))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "set receipt policy of group %d", id)
}

// InsertGroup stores g with the id the caller chose.
func (t *tx) InsertGroup(ctx context.Context, g *chat.Group) error {
	_, err := t.q.exec(ctx, sqlInsertGroup, int64(g.ID), g.Name, g.Description, g.Public, int64(g.Owner),
		int64(g.MaxMembers), int64(g.Members), toMS(g.CreatedAt), jsonArg(g.Ext))
	return wrap(err, "insert group %d", g.ID)
}

// Group returns group id unless it does not exist or was destroyed.
func (t *tx) Group(ctx context.Context, id chat.GroupID) (chat.Group, error) {
	gs, err := queryAll(ctx, t.q, nil, sqlGroup, []any{int64(id)}, scanGroup)
	if err == nil && len(gs) == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return chat.Group{}, wrap(err, "group %d", id)
	}
	return gs[0], nil
}

// sqlLockGroup writes nothing but takes the row lock: PostgreSQL holds it
// until commit; SQLite's single writer already serializes every Write.
var sqlLockGroup = `UPDATE groups SET id = id WHERE id = ?`

// LockGroup locks group id's row until the transaction ends.
func (t *tx) LockGroup(ctx context.Context, id chat.GroupID) error {
	n, err := t.q.exec(ctx, sqlLockGroup, int64(id))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "lock group %d", id)
}

// sqlShareGroup, sqlLockUser and sqlLockGroupsOf take row locks on
// PostgreSQL, [1]: FOR SHARE conflicts with the lock LockGroup's UPDATE
// takes (and with no other FOR SHARE); FOR NO KEY UPDATE is that lock,
// taken in id order so that two writers locking several groups cannot
// deadlock. FOR UPDATE of the user conflicts with the key-share lock the
// foreign key of a new members row takes on its user: a join of the user
// under way commits first (and its group is then locked too), a later one
// waits. On SQLite, [0], they read or do nothing: its single writer
// already serializes every Write.
var (
	sqlShareGroup   = [2]string{`SELECT id FROM groups WHERE id = ?`, `SELECT id FROM groups WHERE id = ? FOR SHARE`}
	sqlLockUser     = [2]string{``, `SELECT id FROM users WHERE id = ? FOR UPDATE`}
	sqlLockGroupsOf = [2]string{``, `SELECT g.id FROM groups g JOIN members m ON m.group_id = g.id WHERE m.user_id = ?
ORDER BY g.id FOR NO KEY UPDATE OF g`}
)

// scanInt64 scans a row of one integer column (the ids a locking read
// returns).
func scanInt64(r rows, v *int64) error { return r.Scan(v) }

// ShareGroup locks group id's row in share mode until the transaction
// ends.
func (t *tx) ShareGroup(ctx context.Context, id chat.GroupID) error {
	if !t.write {
		return fmt.Errorf("share group %d: %w", id, errNotWrite)
	}
	ids, err := queryAll(ctx, t.q, nil, sqlShareGroup[t.engine()], []any{int64(id)}, scanInt64)
	if err == nil && len(ids) == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "share group %d", id)
}

// LockGroupsOf locks u's row, then the rows of the groups u is a member
// of, in id order, until the transaction ends.
func (t *tx) LockGroupsOf(ctx context.Context, u chat.UserID) error {
	if !t.write {
		return fmt.Errorf("lock groups of user %d: %w", u, errNotWrite)
	}
	for _, q := range []string{sqlLockUser[t.engine()], sqlLockGroupsOf[t.engine()]} {
		if q == "" {
			continue
		}
		_, err := queryAll(ctx, t.q, nil, q, []any{int64(u)}, scanInt64)
		if err != nil {
			return wrap(err, "lock groups of user %d", u)
		}
	}
	return nil
}

// ShareUsers takes the key-share locks of users' rows, in id order, until
// the transaction ends; on SQLite it does nothing.
func (t *tx) ShareUsers(ctx context.Context, ids []chat.UserID) error {
	if !t.write {
		return fmt.Errorf("share users: %w", errNotWrite)
	}
	if t.engine() == 0 || len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range slices.Sorted(slices.Values(ids)) {
		args[i] = int64(id)
	}
	_, err := queryAll(ctx, t.q, nil, `SELECT id FROM users WHERE id IN (`+inList(len(ids))+`) ORDER BY id FOR KEY SHARE`, args,
		scanInt64)
	return wrap(err, "share users")
}

// UpdateGroup stores g's name, description, public flag, member limit,
// owner and ext.
func (t *tx) UpdateGroup(ctx context.Context, g chat.Group) error {
	n, err := t.q.exec(ctx, sqlUpdateGroup, g.Name, g.Description, g.Public, int64(g.MaxMembers), int64(g.Owner), jsonArg(g.Ext), int64(g.ID))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "update group %d", g.ID)
}

// DeleteGroup marks group id destroyed and deletes its members and their
// conversation rows. The row stays so that its id is never reused and its
// messages keep their group.
func (t *tx) DeleteGroup(ctx context.Context, id chat.GroupID) error {
	n, err := t.q.exec(ctx, sqlDestroyGroup, true, int64(id))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	if err == nil {
		_, err = t.q.exec(ctx, sqlDeleteGroupConv, chat.GroupConv(id), int64(id))
	}
	if err == nil {
		_, err = t.q.exec(ctx, sqlDeleteMembers, int64(id))
	}
	return wrap(err, "delete group %d", id)
}

// InsertMember stores m, creates the member's conversation row (since and
// read position m.JoinSeq) and counts the member in the group.
func (t *tx) InsertMember(ctx context.Context, m chat.Member) error {
	_, err := t.q.exec(ctx, sqlInsertMember, int64(m.Group), int64(m.User), string(m.Role), toMS(m.JoinedAt), m.JoinSeq)
	if err == nil {
		_, err = t.q.exec(ctx, sqlInsertConv, int64(m.User), chat.GroupConv(m.Group), string(chat.GroupChat),
			int64(0), int64(m.Group), m.JoinSeq, m.JoinSeq)
	}
	if err == nil {
		_, err = t.q.exec(ctx, sqlAddMembers, int64(1), int64(m.Group))
	}
	return wrap(err, "insert member %d of group %d", m.User, m.Group)
}

// Member returns u's membership of g.
func (t *tx) Member(ctx context.Context, g chat.GroupID, u chat.UserID) (chat.Member, error) {
	ms, err := queryAll(ctx, t.q, nil, sqlMember, []any{int64(g), int64(u)}, scanMember)
	if err == nil && len(ms) == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return chat.Member{}, wrap(err, "member %d of group %d", u, g)
	}
	return ms[0], nil
}

// MembersByUser returns the memberships of g among users, ordered by user.
func (t *tx) MembersByUser(ctx context.Context, g chat.GroupID, users []chat.UserID) ([]chat.Member, error) {
	var ms []chat.Member
	for part := range slices.Chunk(users, maxParams-1) {
		args := make([]any, 0, len(part)+1)
		args = append(args, int64(g))
		for _, u := range part {
			args = append(args, int64(u))
		}
		var err error
		ms, err = queryAll(ctx, t.q, ms, `SELECT `+memberCols+memberFrom+`WHERE m.group_id = ? AND m.user_id IN (`+inList(len(part))+`)`, args, scanMember)
		if err != nil {
			return nil, wrap(err, "members of group %d by user", g)
		}
	}
	slices.SortFunc(ms, func(a, b chat.Member) int { return cmpInt(a.User, b.User) })
	return ms, nil
}

// DeleteMember removes u from g with u's conversation row of g.
func (t *tx) DeleteMember(ctx context.Context, g chat.GroupID, u chat.UserID) error {
	n, err := t.q.exec(ctx, sqlDeleteMember, int64(g), int64(u))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	if err == nil {
		_, err = t.q.exec(ctx, sqlDeleteConv, int64(u), chat.GroupConv(g))
	}
	if err == nil {
		_, err = t.q.exec(ctx, sqlAddMembers, int64(-1), int64(g))
	}
	return wrap(err, "delete member %d of group %d", u, g)
}

// SetRole sets u's role in g.
func (t *tx) SetRole(ctx context.Context, g chat.GroupID, u chat.UserID, r chat.Role) error {
	n, err := t.q.exec(ctx, sqlSetRole, string(r), int64(g), int64(u))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "set role of member %d of group %d", u, g)
}

// Members lists g's members by (JoinSeq, User) after the given position.
func (t *tx) Members(ctx context.Context, g chat.GroupID, afterJoinSeq int64, afterUser chat.UserID, limit int) ([]chat.Member, error) {
	ms, err := queryAll(ctx, t.q, nil, sqlMembers, []any{int64(g), afterJoinSeq, int64(afterUser), lim(limit)}, scanMember)
	if err != nil {
		return nil, wrap(err, "members of group %d", g)
	}
	return ms, nil
}

// Admins lists g's owner and admins by (JoinSeq, User).
func (t *tx) Admins(ctx context.Context, g chat.GroupID) ([]chat.Member, error) {
	ms, err := queryAll(ctx, t.q, nil, sqlAdmins, []any{int64(g), string(chat.RoleOwner), string(chat.RoleAdmin)}, scanMember)
	if err != nil {
		return nil, wrap(err, "admins of group %d", g)
	}
	return ms, nil
}

// GroupsOf lists the groups u is a member of, by id, after the given id.
func (t *tx) GroupsOf(ctx context.Context, u chat.UserID, after chat.GroupID, limit int) ([]chat.Group, error) {
	gs, err := queryAll(ctx, t.q, nil, sqlGroupsOf, []any{int64(u), int64(after), lim(limit)}, scanGroup)
	if err != nil {
		return nil, wrap(err, "groups of user %d", u)
	}
	return gs, nil
}

// InsertMemberEvent appends e to its group's membership history.
func (t *tx) InsertMemberEvent(ctx context.Context, e chat.MemberEvent) error {
	_, err := t.q.exec(ctx, sqlInsertEvent, int64(e.Group), int64(e.User), int64(e.Actor), e.Kind, toMS(e.At), e.Seq)
	return wrap(err, "insert member event of group %d", e.Group)
}

// MemberEvents lists the membership history of u in g, oldest first; of
// every user when u is 0.
func (t *tx) MemberEvents(ctx context.Context, g chat.GroupID, u chat.UserID) ([]chat.MemberEvent, error) {
	q, args := sqlMemberEvents, []any{int64(g), int64(u)}
	if u == 0 {
		q, args = sqlGroupEvents, []any{int64(g)}
	}
	es, err := queryAll(ctx, t.q, nil, q, args, func(r rows, e *chat.MemberEvent) error {
		return r.Scan(&e.Group, &e.User, &e.Actor, &e.Kind, msTime{&e.At}, &e.Seq)
	})
	if err != nil {
		return nil, wrap(err, "member events of group %d", g)
	}
	return es, nil
}
