package chat_test

import (
	"context"
	"testing"

	"seen/internal/chat"
)

func TestGroupPermissions(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "admin2", "member", "member2", "outsider", "newbie")
		owner, admin, admin2, member, member2, outsider, newbie := u[0], u[1], u[2], u[3], u[4], u[5], u[6]
		g := e.group(t, owner, admin, admin2, member, member2)
		for _, a := range []chat.Actor{admin, admin2} {
			if err := e.svc.SetAdmin(ctx, owner, g, a.Name, true); err != nil {
				t.Fatalf("SetAdmin(%s) = %v", a.Name, err)
			}
		}
		for _, tc := range []struct {
			name string
			err  error
			want chat.Code
		}{
			{"member adds", first(e.svc.AddMembers(ctx, member, g, []string{"newbie"})), chat.CodePermissionDenied},
			{"outsider adds", first(e.svc.AddMembers(ctx, outsider, g, []string{"newbie"})), chat.CodeNotMember},
			{"add unknown user", first(e.svc.AddMembers(ctx, owner, g, []string{"ghost"})), chat.CodeUserNotFound},
			{"add to unknown group", first(e.svc.AddMembers(ctx, owner, g+1, []string{"newbie"})), chat.CodeGroupNotFound},
			{"member removes", e.svc.RemoveMember(ctx, member, g, "member2"), chat.CodePermissionDenied},
			{"admin removes owner", e.svc.RemoveMember(ctx, admin, g, "owner"), chat.CodePermissionDenied},
			{"admin removes admin", e.svc.RemoveMember(ctx, admin, g, "admin2"), chat.CodePermissionDenied},
			{"admin removes self", e.svc.RemoveMember(ctx, admin, g, "admin"), chat.CodeNotAllowed},
			{"remove non-member", e.svc.RemoveMember(ctx, owner, g, "outsider"), chat.CodeNotMember},
			{"admin sets admin", e.svc.SetAdmin(ctx, admin, g, "member", true), chat.CodePermissionDenied},
			{"owner sets owner admin", e.svc.SetAdmin(ctx, owner, g, "owner", true), chat.CodeNotAllowed},
			{"set admin on non-member", e.svc.SetAdmin(ctx, owner, g, "outsider", true), chat.CodeNotMember},
			{"admin transfers", e.svc.TransferOwner(ctx, admin, g, "member"), chat.CodePermissionDenied},
			{"transfer to non-member", e.svc.TransferOwner(ctx, owner, g, "outsider"), chat.CodeNotMember},
			{"owner leaves", e.svc.Leave(ctx, owner, g), chat.CodeNotAllowed},
			{"outsider leaves", e.svc.Leave(ctx, outsider, g), chat.CodeNotMember},
			{"admin destroys", e.svc.DestroyGroup(ctx, admin, g), chat.CodePermissionDenied},
			{"outsider reads info", second(e.svc.GroupInfo(ctx, outsider, g)), chat.CodeNotMember},
			{"outsider lists members", second(e.svc.Members(ctx, outsider, g, "", 10)), chat.CodeNotMember},
		} {
			wantCode(t, tc.name, tc.err, tc.want)
		}
		// What is allowed.
		if _, err := e.svc.AddMembers(ctx, admin, g, []string{"newbie"}); err != nil {
			t.Errorf("admin adds = %v", err)
		}
		if err := e.svc.RemoveMember(ctx, admin, g, "newbie"); err != nil {
			t.Errorf("admin removes member = %v", err)
		}
		if err := e.svc.RemoveMember(ctx, owner, g, "admin2"); err != nil {
			t.Errorf("owner removes admin = %v", err)
		}
		if err := e.svc.Leave(ctx, member2, g); err != nil {
			t.Errorf("member leaves = %v", err)
		}
		if err := e.svc.TransferOwner(ctx, owner, g, "member"); err != nil {
			t.Fatalf("transfer = %v", err)
		}
		info, err := e.svc.GroupInfo(ctx, member, g)
		if err != nil || info.Owner != member.User || info.Members != 3 {
			t.Errorf("GroupInfo after transfer = %+v, %v; want owner member with 3 members", info, err)
		}
		if err := e.svc.Leave(ctx, owner, g); err != nil {
			t.Errorf("old owner leaves = %v", err)
		}
		wantCode(t, "old owner destroys", e.svc.DestroyGroup(ctx, owner, g), chat.CodePermissionDenied)
		if err := e.svc.DestroyGroup(ctx, member, g); err != nil {
			t.Errorf("new owner destroys = %v", err)
		}
		_, err = e.svc.GroupInfo(ctx, member, g)
		wantCode(t, "GroupInfo after destroy", err, chat.CodeGroupNotFound)
		_ = newbie
	})
}

func first[A any](_ A, err error) error  { return err }
func second[A any](_ A, err error) error { return err }

func TestGroupMembersPagingAndRoles(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "o", "m1", "m2", "m3", "m4")
		g := e.group(t, u[0], u[1], u[2])
		if _, err := e.svc.AddMembers(ctx, u[0], g, []string{"m3", "m4", "m1"}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetAdmin(ctx, u[0], g, "m2", true); err != nil {
			t.Fatal(err)
		}
		var got []string
		roles := map[string]chat.Role{}
		cursor := ""
		for {
			p, err := e.svc.Members(ctx, u[1], g, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Members {
				got = append(got, m.Name)
				roles[m.Name] = m.Role
				if m.JoinedAt.IsZero() {
					t.Errorf("member %s has no join time", m.Name)
				}
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if len(got) != 5 {
			t.Fatalf("Members pages = %v, want 5 members", got)
		}
		if roles["o"] != chat.RoleOwner || roles["m2"] != chat.RoleAdmin || roles["m3"] != chat.RoleMember {
			t.Errorf("roles = %v", roles)
		}
		admins, err := e.svc.Admins(ctx, u[3], g)
		if err != nil || len(admins) != 2 {
			t.Errorf("Admins = %v, %v; want owner and m2", admins, err)
		}
		mine, err := e.svc.MyGroups(ctx, u[4], "", 10)
		if err != nil || len(mine.Groups) != 1 || mine.Groups[0].ID != g {
			t.Errorf("MyGroups(m4) = %+v, %v", mine, err)
		}
		_, err = e.svc.Members(ctx, u[1], g, "bogus", 2)
		wantCode(t, "Members(bad cursor)", err, chat.CodeBadRequest)
	})
}

func TestGroupFull(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.users(t, "o", "a", "b", "c")
	g, err := e.svc.CreateGroup(ctx, u[0], chat.GroupSpec{Name: "small", MaxMembers: 3, Members: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddMembers(ctx, u[0], g.ID, []string{"b", "c"})
	wantCode(t, "AddMembers over the maximum", err, chat.CodeGroupFull)
	if _, err := e.svc.AddMembers(ctx, u[0], g.ID, []string{"b"}); err != nil {
		t.Errorf("AddMembers to the maximum = %v", err)
	}
	_, err = e.svc.CreateGroup(ctx, u[0], chat.GroupSpec{Name: "x", MaxMembers: 1_000_000})
	wantCode(t, "CreateGroup over the server maximum", err, chat.CodeBadRequest)
	_, err = e.svc.CreateGroup(ctx, u[0], chat.GroupSpec{Name: ""})
	wantCode(t, "CreateGroup without a name", err, chat.CodeBadRequest)
	_, err = e.svc.CreateGroup(ctx, u[0], chat.GroupSpec{Name: "x", Ext: []byte(`[1]`)})
	wantCode(t, "CreateGroup with a non-object ext", err, chat.CodeBadRequest)
}

func TestGroupEventsAndHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.users(t, "o", "a", "b")
	g := e.group(t, u[0], u[1])
	members := e.record(t, chat.GroupTopic(g))
	bTopic := e.record(t, chat.UserTopic(u[2].User))
	if _, err := e.svc.AddMembers(ctx, u[0], g, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	members.waitFor(t, "memberPresence of b", func(ev chat.Event) bool {
		return ev.Kind == chat.EventGroup && ev.Group.Op == chat.GroupOpMemberAdded && ev.Group.Users[0] == "b"
	})
	bTopic.waitFor(t, "directJoined to b", func(ev chat.Event) bool {
		return ev.Kind == chat.EventGroup && ev.Group.Op == chat.GroupOpInvited
	})
	if err := e.svc.RemoveMember(ctx, u[0], g, "b"); err != nil {
		t.Fatal(err)
	}
	bTopic.waitFor(t, "removeMember to b", func(ev chat.Event) bool {
		return ev.Kind == chat.EventGroup && ev.Group.Op == chat.GroupOpRemoved
	})
	if err := e.svc.DestroyGroup(ctx, u[0], g); err != nil {
		t.Fatal(err)
	}
	members.waitFor(t, "destroy", func(ev chat.Event) bool { return ev.Kind == chat.EventGroup && ev.Group.Op == chat.GroupOpDestroy })

	// The membership history is recorded with times and sequence heads.
	var evs []chat.MemberEvent
	err := e.store.Read(ctx, func(tx chat.Tx) error {
		var err error
		evs, err = tx.MemberEvents(ctx, g, u[2].User)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) != 2 || kinds[0] != "join" || kinds[1] != "remove" {
		t.Errorf("MemberEvents(b) = %v, want [join remove]", kinds)
	}
}
