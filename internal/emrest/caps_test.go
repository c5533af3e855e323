package emrest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"seen/internal/chat"
)

// engines runs f on SQLite and, when SEEN_TEST_POSTGRES_URL is set,
// PostgreSQL.
func engines(t *testing.T, f func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) { f(t, pg) })
	}
}

// bigGroup registers alice (returned logged in) and n others, u00...,
// and makes a group of them all, owned by alice; it returns the group id
// and the members' names in join order.
func bigGroup(t *testing.T, s *srv, svc *chat.Service, n int) (alice, gid string, order []string) {
	t.Helper()
	ctx := context.Background()
	alice = s.register("alice")
	ua, err := svc.Authenticate(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range n {
		name := fmt.Sprintf("u%02d", i)
		if _, err := svc.Register(ctx, chat.Credentials{Username: name, Password: "password"}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	g, err := svc.CreateGroup(ctx, chat.Actor{User: ua.ID, Name: ua.Name, Device: "a1"}, chat.GroupSpec{Name: "big", Members: names})
	if err != nil {
		t.Fatal(err)
	}
	gid = g.ID.String()
	var all struct {
		Data   []member `json:"data"`
		Cursor string   `json:"cursor"`
	}
	s.ok("GET", prefix+"/chatgroups/"+gid+"/users?limit=1000", alice, nil, &all)
	for _, m := range all.Data {
		_, name := roleOf(m)
		order = append(order, name)
	}
	if len(order) != n+1 || all.Cursor != "" {
		t.Fatalf("cursor listing = %d members, cursor %q; want %d", len(order), all.Cursor, n+1)
	}
	return alice, gid, order
}

// TestPageDepth checks the numbered pages: a deep page is the same rows
// as the cursor listing, and a page past maxPageRows (10000) is refused
// before any work, on every paged call.
func TestPageDepth(t *testing.T) {
	engines(t, func(t *testing.T, pg bool) {
		s, svc := roamingServer(t, pg)
		alice, gid, order := bigGroup(t, s, svc, 59)

		var page struct {
			Data  []member `json:"data"`
			Count int      `json:"count"`
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"/users?pagenum=3&pagesize=25", alice, nil, &page)
		var got []string
		for _, m := range page.Data {
			_, name := roleOf(m)
			got = append(got, name)
		}
		if !slices.Equal(got, order[50:]) || page.Count != 10 {
			t.Errorf("page 3 of 25 = %v (count %d), want %v", got, page.Count, order[50:])
		}
		s.ok("GET", prefix+"/chatgroups/"+gid+"/users?pagenum=100&pagesize=100", alice, nil, &page)
		if len(page.Data) != 0 {
			t.Errorf("page 100 of 100 = %v, want none", page.Data)
		}

		for _, path := range []string{
			"/chatgroups/" + gid + "/users?pagenum=101&pagesize=100",
			"/chatgroups/" + gid + "/users?pagenum=10001&pagesize=1",
			"/users/alice/joined_chatgroups?pagenum=101&pagesize=100",
			"/users/alice/joined_chatgroups?pagenum=20001",
			"/users/alice/user_channels/page?pageNum=101&pageSize=100",
			"/users/alice/user_channels/page?pageNum=10001&pageSize=1",
		} {
			s.do("GET", prefix+path, alice, nil).wantError(t, http.StatusBadRequest, "illegal_argument", "at most 10000")
		}
		for _, path := range []string{
			"/users/alice/joined_chatgroups?pagenum=100&pagesize=100",
			"/users/alice/user_channels/page?pageNum=100&pageSize=100",
		} {
			if r := s.do("GET", prefix+path, alice, nil); r.status != http.StatusOK {
				t.Errorf("GET %s = %d %s, want 200", path, r.status, r.body)
			}
		}
	})
}

// TestGroupInfoCaps checks the cost caps of the group detail: at most 20
// ids a call, and 1000 affiliations a call, shared by the groups named.
func TestGroupInfoCaps(t *testing.T) {
	engines(t, func(t *testing.T, pg bool) {
		s, svc := roamingServer(t, pg)
		alice, gid, order := bigGroup(t, s, svc, 59)

		var info struct {
			Data []struct {
				ID                string           `json:"id"`
				AffiliationsCount int              `json:"affiliations_count"`
				Affiliations      []map[string]any `json:"affiliations"`
			} `json:"data"`
		}
		s.ok("GET", prefix+"/chatgroups/"+gid, alice, nil, &info)
		if len(info.Data) != 1 || len(info.Data[0].Affiliations) != 60 || info.Data[0].AffiliationsCount != 60 {
			t.Fatalf("one group's detail = %+v, want 60 affiliations", info.Data)
		}
		twenty := strings.Repeat(gid+",", 19) + gid
		s.ok("GET", prefix+"/chatgroups/"+twenty, alice, nil, &info)
		if len(info.Data) != 20 {
			t.Fatalf("twenty ids gave %d details", len(info.Data))
		}
		for _, d := range info.Data {
			if len(d.Affiliations) != 50 || d.AffiliationsCount != 60 || d.ID != gid {
				t.Fatalf("detail of twenty = %d affiliations, count %d; want 50 of 60", len(d.Affiliations), d.AffiliationsCount)
			}
			if d.Affiliations[49]["member"] != order[49] {
				t.Errorf("50th affiliation = %v, want member %s", d.Affiliations[49], order[49])
			}
		}
		s.do("GET", prefix+"/chatgroups/"+twenty+","+gid, alice, nil).wantError(t, http.StatusBadRequest, "illegal_argument", "1-20 group ids")
	})
}

// TestInternalErrorHidden checks that the cause of an internal failure is
// logged, never sent: the client sees "internal error" only.
func TestInternalErrorHidden(t *testing.T) {
	engines(t, func(t *testing.T, pg bool) {
		s, svc := roamingServerWith(t, pg, func(*chat.Message) ([]byte, error) {
			return nil, errors.New("secret cause at /var/lib/seen")
		})
		alice, bob := s.register("alice"), s.register("bob")
		ua, err := svc.Authenticate(context.Background(), alice)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(context.Background(), chat.Actor{User: ua.ID, Name: ua.Name, Device: "a1"},
			chat.Outgoing{LocalID: "l1", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		r := s.do("POST", prefix+"/users/bob/messageroaming", bob, map[string]any{"queue": "alice@easemob.com", "start": -1, "pull_number": 20})
		r.wantError(t, http.StatusInternalServerError, "internal_server_error", "internal error")
		if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "encode") {
			t.Errorf("reply = %s, tells the client the cause", r.body)
		}
	})
}

// TestAdminEcho checks that setAdmin and removeAdmin echo the name as
// chat normalizes it (as invite does), whatever case the app sent.
func TestAdminEcho(t *testing.T) {
	s, svc := roamingServer(t, false)
	alice, gid, _ := bigGroup(t, s, svc, 2)
	var set struct {
		Data struct {
			NewAdmin string `json:"newadmin"`
		} `json:"data"`
	}
	s.ok("POST", prefix+"/chatgroups/"+gid+"/admin", alice, map[string]string{"newadmin": "U01"}, &set)
	var rm struct {
		Data struct {
			OldAdmin string `json:"oldadmin"`
		} `json:"data"`
	}
	s.ok("DELETE", prefix+"/chatgroups/"+gid+"/admin/U01", alice, nil, &rm)
	if set.Data.NewAdmin != "u01" || rm.Data.OldAdmin != "u01" {
		t.Errorf("newadmin %q, oldadmin %q; want u01", set.Data.NewAdmin, rm.Data.OldAdmin)
	}
}
