package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GroupSpec is what a group is created with.
type GroupSpec struct {
	Name        string
	Description string
	Public      bool
	MaxMembers  int             // 0: the server's maximum
	Members     []string        // usernames added besides the owner
	Ext         json.RawMessage // app-defined JSON object
	// Owner names the owner when the administrator creates a group on
	// someone's behalf; ignored for users (they own what they create).
	Owner string
}

// Group limits.
const (
	MaxGroupName        = 128 // characters
	MaxGroupDescription = 1024
	MaxGroupExtBytes    = 8 << 10
)

func (s *Service) checkSpec(sp *GroupSpec) error {
	if err := checkText("name", sp.Name, 0); err != nil {
		return err
	}
	if err := checkText("description", sp.Description, 0); err != nil {
		return err
	}
	if utf8.RuneCountInString(sp.Name) > MaxGroupName || strings.TrimSpace(sp.Name) == "" {
		return Errorf(CodeBadRequest, "group name must be 1-%d characters", MaxGroupName)
	}
	if utf8.RuneCountInString(sp.Description) > MaxGroupDescription {
		return Errorf(CodeBadRequest, "group description must be at most %d characters", MaxGroupDescription)
	}
	if sp.MaxMembers == 0 {
		sp.MaxMembers = s.cfg.MaxGroupMembers
	}
	if sp.MaxMembers < 2 || sp.MaxMembers > s.cfg.MaxGroupMembers {
		return Errorf(CodeBadRequest, "maxusers must be 2-%d", s.cfg.MaxGroupMembers)
	}
	if err := checkObject("ext", sp.Ext, MaxGroupExtBytes); err != nil {
		return err
	}
	return nil
}

// checkObject checks that raw is empty or a JSON object of at most max
// bytes that can be stored and sent back as is (checkRawJSON).
func checkObject(what string, raw json.RawMessage, max int) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(raw) > max {
		return Errorf(CodeTooLarge, "%s is %d bytes, over the limit of %d", what, len(raw), max)
	}
	if err := checkRawJSON(what, raw); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Errorf(CodeBadRequest, "%s must be a JSON object", what)
	}
	return nil
}

// CreateGroup creates a group owned by the actor (or, for the
// administrator, by spec.Owner) with spec.Members as members.
func (s *Service) CreateGroup(ctx context.Context, actor Actor, sp GroupSpec) (Group, error) {
	if err := s.checkSpec(&sp); err != nil {
		return Group{}, err
	}
	now := s.now()
	g := Group{
		ID: GroupID(s.ids.Next()), Name: sp.Name, Description: sp.Description, Public: sp.Public,
		MaxMembers: sp.MaxMembers, CreatedAt: now, Ext: sp.Ext,
	}
	var added []User
	var owner User
	err := s.write(ctx, "create_group", func(tx Tx) error {
		ownerName := actor.Name
		if actor.Admin {
			if sp.Owner == "" {
				return Errorf(CodeBadRequest, "owner is required when the administrator creates a group")
			}
			ownerName = sp.Owner
		}
		us, err := usersByName(ctx, tx, append([]string{ownerName}, sp.Members...))
		if err != nil {
			return err
		}
		owner, added = us[0], us[1:]
		if len(us) > g.MaxMembers {
			return Errorf(CodeGroupFull, "%d members exceed the group's maximum of %d", len(us), g.MaxMembers)
		}
		g.Owner = owner.ID
		if err := tx.InsertGroup(ctx, &g); err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		for i, u := range us {
			role := RoleMember
			if i == 0 {
				role = RoleOwner
			}
			if err := s.join(ctx, tx, g.ID, u.ID, role, head, actor); err != nil {
				return err
			}
		}
		g.Members = len(us)
		return nil
	})
	if err != nil {
		return Group{}, internal("create group", err)
	}
	g.OwnerName = owner.Name
	g.Policy = effectivePolicy(s.cfg, g.OwnPolicy)
	// Nobody is subscribed to a new group's topic yet: tell the owner's
	// devices (on any node) through the owner's own topic.
	s.tellUsers(g.ID, GroupOpCreate, actor, g.Name, []User{owner})
	if len(added) > 0 {
		s.publishGroup(g.ID, GroupOpMemberAdded, actor, g.Name, added)
		s.tellUsers(g.ID, GroupOpInvited, actor, g.Name, added)
	}
	return g, nil
}

// join makes u a member and records it. Called inside a write.
func (s *Service) join(ctx context.Context, tx Tx, g GroupID, u UserID, role Role, head int64, actor Actor) error {
	m := Member{Group: g, User: u, Role: role, JoinedAt: s.now(), JoinSeq: head}
	if err := tx.InsertMember(ctx, m); err != nil {
		if errors.Is(err, ErrConflict) {
			return Errorf(CodeAlreadyMember, "user is already a member")
		}
		return err
	}
	return tx.InsertMemberEvent(ctx, MemberEvent{Group: g, User: u, Actor: actor.User, Kind: "join", At: m.JoinedAt, Seq: head})
}

// loadGroup returns a live group or CodeGroupNotFound.
func loadGroup(ctx context.Context, tx Tx, id GroupID) (Group, error) {
	g, err := tx.Group(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Group{}, Errorf(CodeGroupNotFound, "no group %s", id)
	}
	return g, err
}

// lockGroup locks a live group's row for the rest of a write and returns
// it, so that checks made on it (member limit, roles, membership) cannot
// race with another node's write to the same group.
func lockGroup(ctx context.Context, tx Tx, id GroupID) (Group, error) {
	if err := tx.LockGroup(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return Group{}, err
	}
	g, err := tx.Group(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Group{}, Errorf(CodeGroupNotFound, "no group %s", id)
	}
	return g, err
}

// actorRole returns the actor's role in g: RoleOwner for the
// administrator, "" for a non-member.
func actorRole(ctx context.Context, tx Tx, g GroupID, actor Actor) (Role, error) {
	if actor.Admin {
		return RoleOwner, nil
	}
	m, err := memberOf(ctx, tx, g, actor.User)
	if m == nil || err != nil {
		return "", err
	}
	return m.Role, nil
}

// memberOf returns u's membership of g, nil (and no error) if it has none.
func memberOf(ctx context.Context, tx Tx, g GroupID, u UserID) (*Member, error) {
	m, err := tx.Member(ctx, g, u)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func canManage(r Role) bool { return r == RoleOwner || r == RoleAdmin }

// manage starts a group write: it locks the live group and returns it with
// the actor's role, after may has allowed the role ("" for a non-member).
func manage(ctx context.Context, tx Tx, gid GroupID, actor Actor, may func(Role) error) (Group, Role, error) {
	g, err := lockGroup(ctx, tx, gid)
	if err != nil {
		return Group{}, "", err
	}
	role, err := actorRole(ctx, tx, gid, actor)
	if err != nil {
		return Group{}, "", err
	}
	return g, role, may(role)
}

// ownerOnly allows the owner; why completes "only the owner may ...".
func ownerOnly(why string) func(Role) error {
	return func(r Role) error {
		if r != RoleOwner {
			return Errorf(CodePermissionDenied, "only the owner may %s", why)
		}
		return nil
	}
}

// target resolves the user an operation is about and their membership of
// gid, or CodeNotMember.
func target(ctx context.Context, tx Tx, gid GroupID, name string) (User, Member, error) {
	us, err := usersByName(ctx, tx, []string{name})
	if err != nil {
		return User{}, Member{}, err
	}
	m, err := tx.Member(ctx, gid, us[0].ID)
	if errors.Is(err, ErrNotFound) {
		return us[0], Member{}, Errorf(CodeNotMember, "%s is not a member of group %s", us[0].Name, gid)
	}
	return us[0], m, err
}

// AddMembers adds users to a group (owner or admins). Users who are
// already members are skipped; the ones added are returned.
func (s *Service) AddMembers(ctx context.Context, actor Actor, gid GroupID, names []string) ([]User, error) {
	if len(names) == 0 || len(names) > MaxBulkUsers {
		return nil, Errorf(CodeBadRequest, "add 1-%d users at a time", MaxBulkUsers)
	}
	var added []User
	var g Group
	err := s.write(ctx, "add_members", func(tx Tx) error {
		us, err := usersByName(ctx, tx, names)
		if err != nil {
			return err
		}
		ids := make([]UserID, len(us))
		for i, u := range us {
			ids[i] = u.ID
		}
		// The users' locks before the group's (docs/architecture.md, the
		// lock order): the members rows' foreign keys would take them
		// after it, and turning receipts on takes a user's, then the
		// user's groups'.
		if err := tx.ShareUsers(ctx, ids); err != nil {
			return err
		}
		g, _, err = manage(ctx, tx, gid, actor, func(r Role) error {
			switch {
			case r == "":
				return Errorf(CodeNotMember, "you are not a member of group %s", gid)
			case !canManage(r):
				return Errorf(CodePermissionDenied, "only the owner and admins may add members")
			}
			return nil
		})
		if err != nil {
			return err
		}
		existing, err := tx.MembersByUser(ctx, gid, ids)
		if err != nil {
			return err
		}
		in := make(map[UserID]bool, len(existing))
		for _, m := range existing {
			in[m.User] = true
		}
		added = added[:0]
		for _, u := range us {
			if !in[u.ID] {
				added = append(added, u)
			}
		}
		if g.Members+len(added) > g.MaxMembers {
			return Errorf(CodeGroupFull, "group %s would have %d members; its maximum is %d", gid, g.Members+len(added), g.MaxMembers)
		}
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		for _, u := range added {
			if err := s.join(ctx, tx, gid, u.ID, RoleMember, head, actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal("add members", err)
	}
	if len(added) > 0 {
		s.publishGroup(gid, GroupOpMemberAdded, actor, g.Name, added)
		s.tellUsers(gid, GroupOpInvited, actor, g.Name, added)
	}
	return added, nil
}

// RemoveMember removes a member (owner or admins; admins cannot remove the
// owner or other admins; nobody removes themselves: they leave).
func (s *Service) RemoveMember(ctx context.Context, actor Actor, gid GroupID, name string) error {
	var who User
	var g Group
	err := s.write(ctx, "remove_member", func(tx Tx) error {
		var role Role
		var err error
		g, role, err = manage(ctx, tx, gid, actor, func(r Role) error {
			if !canManage(r) {
				return Errorf(CodePermissionDenied, "only the owner and admins may remove members")
			}
			return nil
		})
		if err != nil {
			return err
		}
		var m Member
		if who, m, err = target(ctx, tx, gid, name); err != nil {
			return err
		}
		switch {
		case !actor.Admin && who.ID == actor.User:
			return Errorf(CodeNotAllowed, "you cannot remove yourself; leave the group instead")
		case m.Role == RoleOwner:
			return Errorf(CodePermissionDenied, "the owner cannot be removed")
		case m.Role == RoleAdmin && role != RoleOwner:
			return Errorf(CodePermissionDenied, "only the owner may remove an admin")
		}
		return s.part(ctx, tx, gid, who.ID, "remove", actor)
	})
	if err != nil {
		return internal("remove member", err)
	}
	s.publishGroup(gid, GroupOpMemberGone, actor, g.Name, []User{who})
	s.tellUsers(gid, GroupOpRemoved, actor, g.Name, []User{who})
	return nil
}

// part ends a membership and records it. Called inside a write.
func (s *Service) part(ctx context.Context, tx Tx, g GroupID, u UserID, kind string, actor Actor) error {
	if err := tx.DeleteMember(ctx, g, u); err != nil {
		return err
	}
	head, err := tx.HeadSeq(ctx, SeqMessages)
	if err != nil {
		return err
	}
	return tx.InsertMemberEvent(ctx, MemberEvent{Group: g, User: u, Actor: actor.User, Kind: kind, At: s.now(), Seq: head})
}

// Leave removes the actor from a group. The owner must transfer ownership
// first.
func (s *Service) Leave(ctx context.Context, actor Actor, gid GroupID) error {
	var g Group
	err := s.write(ctx, "leave", func(tx Tx) error {
		var err error
		g, _, err = manage(ctx, tx, gid, actor, func(r Role) error {
			switch r {
			case "":
				return Errorf(CodeNotMember, "you are not a member of group %s", gid)
			case RoleOwner:
				return Errorf(CodeNotAllowed, "the owner cannot leave; transfer ownership first")
			}
			return nil
		})
		if err != nil {
			return err
		}
		return s.part(ctx, tx, gid, actor.User, "leave", actor)
	})
	if err != nil {
		return internal("leave group", err)
	}
	me := []User{{ID: actor.User, Name: actor.Name}}
	s.publishGroup(gid, GroupOpMemberGone, actor, g.Name, me)
	return nil
}

// SetAdmin makes a member an admin, or an admin a member (owner only).
func (s *Service) SetAdmin(ctx context.Context, actor Actor, gid GroupID, name string, admin bool) error {
	var who User
	var g Group
	changed := false
	err := s.write(ctx, "set_admin", func(tx Tx) error {
		changed = false
		var err error
		if g, _, err = manage(ctx, tx, gid, actor, ownerOnly("change admins")); err != nil {
			return err
		}
		var m Member
		if who, m, err = target(ctx, tx, gid, name); err != nil {
			return err
		}
		if m.Role == RoleOwner {
			return Errorf(CodeNotAllowed, "the owner's role cannot change")
		}
		want, kind := RoleMember, "role:member"
		if admin {
			want, kind = RoleAdmin, "role:admin"
		}
		if m.Role == want {
			return nil
		}
		changed = true
		if err := tx.SetRole(ctx, gid, who.ID, want); err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		return tx.InsertMemberEvent(ctx, MemberEvent{Group: gid, User: who.ID, Actor: actor.User, Kind: kind, At: s.now(), Seq: head})
	})
	if err != nil {
		return internal("set admin", err)
	}
	if !changed {
		return nil
	}
	op := GroupOpRemoveAdmin
	if admin {
		op = GroupOpSetAdmin
	}
	s.publishGroup(gid, op, actor, g.Name, []User{who})
	return nil
}

// TransferOwner makes another member the owner; the old owner becomes a
// plain member (owner only).
func (s *Service) TransferOwner(ctx context.Context, actor Actor, gid GroupID, name string) error {
	var who User
	var g Group
	err := s.write(ctx, "transfer_owner", func(tx Tx) error {
		var err error
		if g, _, err = manage(ctx, tx, gid, actor, ownerOnly("transfer ownership")); err != nil {
			return err
		}
		if who, _, err = target(ctx, tx, gid, name); err != nil {
			return err
		}
		if who.ID == g.Owner {
			return Errorf(CodeNotAllowed, "%s already owns group %s", who.Name, gid)
		}
		if err := tx.SetRole(ctx, gid, g.Owner, RoleMember); err != nil {
			return err
		}
		if err := tx.SetRole(ctx, gid, who.ID, RoleOwner); err != nil {
			return err
		}
		old := g.Owner
		g.Owner = who.ID
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		if err := tx.InsertMemberEvent(ctx, MemberEvent{Group: gid, User: old, Actor: actor.User, Kind: "role:member", At: s.now(), Seq: head}); err != nil {
			return err
		}
		return tx.InsertMemberEvent(ctx, MemberEvent{Group: gid, User: who.ID, Actor: actor.User, Kind: "role:owner", At: s.now(), Seq: head})
	})
	if err != nil {
		return internal("transfer owner", err)
	}
	s.publishGroup(gid, GroupOpChangeOwner, actor, g.Name, []User{who})
	return nil
}

// DestroyGroup deletes a group with its memberships (owner only). Its
// messages stay stored but are no longer reachable.
func (s *Service) DestroyGroup(ctx context.Context, actor Actor, gid GroupID) error {
	var g Group
	err := s.write(ctx, "destroy_group", func(tx Tx) error {
		var err error
		if g, _, err = manage(ctx, tx, gid, actor, ownerOnly("destroy the group")); err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		if err := tx.InsertMemberEvent(ctx, MemberEvent{Group: gid, Actor: actor.User, Kind: "destroy", At: s.now(), Seq: head}); err != nil {
			return err
		}
		return tx.DeleteGroup(ctx, gid)
	})
	if err != nil {
		return internal("destroy group", err)
	}
	s.publishGroup(gid, GroupOpDestroy, actor, g.Name, nil)
	return nil
}

// GroupInfo returns a group; members see any group, others public ones.
func (s *Service) GroupInfo(ctx context.Context, actor Actor, gid GroupID) (Group, error) {
	var g Group
	err := s.read(ctx, "group_info", func(tx Tx) error {
		var err error
		if g, err = loadGroup(ctx, tx, gid); err != nil {
			return err
		}
		if err := canSee(ctx, tx, g, actor); err != nil {
			return err
		}
		gs := []Group{g}
		err = fillOwnerNames(ctx, tx, gs)
		s.withPolicy(gs)
		g = gs[0]
		return err
	})
	return g, internal("group info", err)
}

// canSee allows members, the administrator, and anyone for public groups.
func canSee(ctx context.Context, tx Tx, g Group, actor Actor) error {
	if g.Public {
		return nil
	}
	role, err := actorRole(ctx, tx, g.ID, actor)
	if err != nil {
		return err
	}
	if role == "" {
		return Errorf(CodeNotMember, "you are not a member of group %s", g.ID)
	}
	return nil
}

// MemberPage is a page of members.
type MemberPage struct {
	Members []Member
	Next    string // cursor of the next page; "" on the last
}

// Members pages through a group's members by join time.
func (s *Service) Members(ctx context.Context, actor Actor, gid GroupID, cursor string, limit int) (MemberPage, error) {
	limit, err := pageSize(limit, 100, 1000)
	if err != nil {
		return MemberPage{}, err
	}
	afterSeq, afterUser, err := parseMemberCursor(cursor)
	if err != nil {
		return MemberPage{}, err
	}
	var p MemberPage
	err = s.read(ctx, "members", func(tx Tx) error {
		g, err := loadGroup(ctx, tx, gid)
		if err != nil {
			return err
		}
		if err := canSee(ctx, tx, g, actor); err != nil {
			return err
		}
		ms, err := tx.Members(ctx, gid, afterSeq, afterUser, limit+1)
		if err != nil {
			return err
		}
		if len(ms) > limit {
			ms = ms[:limit]
			last := ms[limit-1]
			p.Next = fmt.Sprintf("%d.%d", last.JoinSeq, last.User)
		}
		p.Members = ms
		return nil
	})
	return p, internal("members", err)
}

func parseMemberCursor(c string) (int64, UserID, error) {
	if c == "" {
		return -1, 0, nil
	}
	a, b, ok := strings.Cut(c, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	u, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, Errorf(CodeBadRequest, "malformed cursor %q", c)
	}
	return seq, UserID(u), nil
}

// Admins lists a group's owner and admins.
func (s *Service) Admins(ctx context.Context, actor Actor, gid GroupID) ([]Member, error) {
	var ms []Member
	err := s.read(ctx, "admins", func(tx Tx) error {
		g, err := loadGroup(ctx, tx, gid)
		if err != nil {
			return err
		}
		if err := canSee(ctx, tx, g, actor); err != nil {
			return err
		}
		ms, err = tx.Admins(ctx, gid)
		return err
	})
	return ms, internal("admins", err)
}

// GroupPage is a page of groups.
type GroupPage struct {
	Groups []Group
	Next   string
}

// MyGroups pages through the groups the actor belongs to.
func (s *Service) MyGroups(ctx context.Context, actor Actor, cursor string, limit int) (GroupPage, error) {
	limit, err := pageSize(limit, 100, 500)
	if err != nil {
		return GroupPage{}, err
	}
	var after GroupID
	if cursor != "" {
		if after, err = ParseGroupID(cursor); err != nil {
			return GroupPage{}, Errorf(CodeBadRequest, "malformed cursor %q", cursor)
		}
	}
	var p GroupPage
	err = s.read(ctx, "my_groups", func(tx Tx) error {
		gs, err := tx.GroupsOf(ctx, actor.User, after, limit+1)
		if err != nil {
			return err
		}
		if len(gs) > limit {
			gs = gs[:limit]
			p.Next = gs[limit-1].ID.String()
		}
		p.Groups = gs
		s.withPolicy(gs)
		return fillOwnerNames(ctx, tx, gs)
	})
	return p, internal("my groups", err)
}

// fillOwnerNames sets OwnerName on groups read from the store.
func fillOwnerNames(ctx context.Context, tx Tx, gs []Group) error {
	ids := make([]UserID, len(gs))
	for i, g := range gs {
		ids[i] = g.Owner
	}
	names, err := userNames(ctx, tx, ids)
	if err != nil {
		return err
	}
	for i := range gs {
		gs[i].OwnerName = names[gs[i].Owner]
	}
	return nil
}

func (s *Service) publishGroup(gid GroupID, op string, actor Actor, name string, users []User) {
	s.publish(GroupTopic(gid), Event{Kind: EventGroup, Group: s.groupEvent(gid, op, actor, name, users)})
}

// tellUsers sends a group event to the users themselves: added users are
// not subscribed to the group yet, removed ones no longer are.
func (s *Service) tellUsers(gid GroupID, op string, actor Actor, name string, users []User) {
	ev := Event{Kind: EventGroup, Group: s.groupEvent(gid, op, actor, name, users)}
	for _, u := range users {
		s.publish(UserTopic(u.ID), ev)
	}
}

func (s *Service) groupEvent(gid GroupID, op string, actor Actor, name string, users []User) *GroupEvent {
	ev := &GroupEvent{Group: gid, Op: op, Actor: actor.Name, GroupName: name, At: ms(s.now())}
	for _, u := range users {
		ev.Users = append(ev.Users, u.Name)
		ev.UserIDs = append(ev.UserIDs, u.ID)
	}
	return ev
}
