package emrest

import (
	"encoding/json"
	"net/http"

	"seen/internal/chat"
)

// createGroupRequest is the body of createGroup / createGroupVNext.
// approval, allowinvites, invite_need_confirm and avatar are accepted
// and not kept: seen has no join requests or invitations to confirm (the
// members are in the group at once) and no avatars.
type createGroupRequest struct {
	Owner             string   `json:"owner"`
	GroupName         string   `json:"groupname"`
	Avatar            string   `json:"avatar"`
	Desc              string   `json:"desc"`
	Description       string   `json:"description"`
	Members           []string `json:"members"`
	Public            bool     `json:"public"`
	Approval          bool     `json:"approval"`
	AllowInvites      bool     `json:"allowinvites"`
	InviteNeedConfirm bool     `json:"invite_need_confirm"`
	MaxUsers          int      `json:"maxusers"`
	Custom            string   `json:"custom"`
}

// customKey holds the vendor's "custom" group string inside seen's
// group ext (a JSON object).
const customKey = "custom"

// spec converts the request, checking that the owner, if named, is the
// caller.
func (c createGroupRequest) spec(actor chat.Actor) (chat.GroupSpec, error) {
	if c.Owner != "" {
		if name, err := chat.NormalizeName(c.Owner); err != nil || name != actor.Name {
			return chat.GroupSpec{}, chat.Errorf(chat.CodePermissionDenied, "owner %q is not you (%s): a user creates groups they own", c.Owner, actor.Name)
		}
	}
	if c.MaxUsers < 0 {
		return chat.GroupSpec{}, chat.Errorf(chat.CodeBadRequest, "maxusers %d is negative", c.MaxUsers)
	}
	sp := chat.GroupSpec{Name: c.GroupName, Description: c.Desc, Public: c.Public, MaxMembers: c.MaxUsers, Members: c.Members}
	if sp.Description == "" {
		sp.Description = c.Description
	}
	if c.Custom != "" {
		ext, err := json.Marshal(map[string]string{customKey: c.Custom})
		if err != nil {
			return chat.GroupSpec{}, chat.Errorf(chat.CodeBadRequest, "custom: %v", err)
		}
		sp.Ext = ext
	}
	return sp, nil
}

// custom is the vendor's "custom" string of a group: the string kept by
// createGroup, or seen's ext as JSON text for a group made elsewhere.
func custom(ext json.RawMessage) string {
	if len(ext) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(ext, &m) == nil && len(m) == 1 {
		var s string
		if json.Unmarshal(m[customKey], &s) == nil {
			return s
		}
	}
	return string(ext)
}

// createGroup: POST /{org}/{app}/chatgroups -> {data: {groupid}}.
func (h *Handler) createGroup(r *http.Request, actor chat.Actor) (any, error) {
	var req createGroupRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	sp, err := req.spec(actor)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateGroup(r.Context(), actor, sp)
	if err != nil {
		return nil, err
	}
	return dataReply{Data: map[string]string{"groupid": g.ID.String()}}, nil
}

// dataReply is the vendor's usual envelope.
type dataReply struct {
	Data      any   `json:"data"`
	Timestamp int64 `json:"timestamp,omitempty"`
}

// groupDetail is the vendor's GroupDetailInfo.
type groupDetail struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	Description       string           `json:"description"`
	MembersOnly       bool             `json:"membersonly"`
	AllowInvites      bool             `json:"allowinvites"`
	MaxUsers          int              `json:"maxusers"`
	Owner             string           `json:"owner"`
	Created           int64            `json:"created"`
	Custom            string           `json:"custom"`
	Mute              bool             `json:"mute"`
	Public            bool             `json:"public"`
	ShieldGroup       bool             `json:"shieldgroup"`
	Avatar            string           `json:"avatar"`
	AffiliationsCount int              `json:"affiliations_count"`
	Affiliations      []map[string]any `json:"affiliations"`
}

// maxAffiliations is how many members one group-detail call lists in all:
// n groups list the first maxAffiliations/n members each (by join time);
// affiliations_count is always the whole count.
const maxAffiliations = 1000

// affiliationsEach is how many members each group of a detail call naming
// n groups lists.
func affiliationsEach(n int) int { return maxAffiliations / max(n, 1) }

// groupInfo: GET /{org}/{app}/chatgroups/{id[,id...]} -> {data:
// [GroupDetailInfo]}, with the first members in affiliations; at most
// maxGroupInfoIDs ids.
func (h *Handler) groupInfo(r *http.Request, actor chat.Actor) (any, error) {
	var ids []chat.GroupID
	for _, s := range names(r.PathValue("groupIds")) {
		id, err := chat.ParseGroupID(s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 || len(ids) > maxGroupInfoIDs {
		return nil, chat.Errorf(chat.CodeBadRequest, "name 1-%d group ids", maxGroupInfoIDs)
	}
	out := make([]groupDetail, 0, len(ids))
	for _, id := range ids {
		d, err := h.groupDetail(r, actor, id, affiliationsEach(len(ids)))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return dataReply{Data: out, Timestamp: now()}, nil
}

// groupDetail is the detail of group id, listing its first members (up
// to limit) in affiliations.
func (h *Handler) groupDetail(r *http.Request, actor chat.Actor, id chat.GroupID, limit int) (groupDetail, error) {
	g, err := h.svc.GroupInfo(r.Context(), actor, id)
	if err != nil {
		return groupDetail{}, err
	}
	p, err := h.svc.Members(r.Context(), actor, id, "", limit)
	if err != nil {
		return groupDetail{}, err
	}
	return groupDetail{
		ID: g.ID.String(), Name: g.Name, Description: g.Description, AllowInvites: false,
		MaxUsers: g.MaxMembers, Owner: g.OwnerName, Created: g.CreatedAt.UnixMilli(),
		Custom: custom(g.Ext), Public: g.Public, AffiliationsCount: g.Members,
		Affiliations: affiliations(p.Members, false),
	}, nil
}

// affiliations lists members the vendor's way: {owner: name} or {member:
// name}, with joined_time; withAdmin names admins {admin: name} (the
// cursor listing does, the group detail does not).
func affiliations(ms []chat.Member, withAdmin bool) []map[string]any {
	out := make([]map[string]any, len(ms))
	for i, m := range ms {
		role := string(m.Role)
		if m.Role == chat.RoleAdmin && !withAdmin {
			role = string(chat.RoleMember)
		}
		out[i] = map[string]any{role: m.Name, "joined_time": m.JoinedAt.UnixMilli()}
	}
	return out
}

// members: GET /{org}/{app}/chatgroups/{gid}/users, two ways:
// ?pagenum&pagesize (listGroupMember) -> {data: [{owner|member: name}],
// count}; or ?cursor&limit (getGroupMembers) -> {data: [{owner|admin|member:
// name, joined_time}], cursor}.
func (h *Handler) members(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	pageNum, err := queryInt(r, "pagenum")
	if err != nil {
		return nil, err
	}
	if pageNum > 0 {
		return h.membersPage(r, actor, gid, pageNum)
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Members(r.Context(), actor, gid, query(r, "cursor"), limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"data": affiliations(p.Members, true), "cursor": p.Next, "timestamp": now()}, nil
}

// maxMembersChunk is the largest page of chat's Members.
const maxMembersChunk = 1000

// membersPage answers the numbered pages of listGroupMember by walking
// seen's cursor pages: page n of size s holds members (n-1)*s .. n*s-1,
// n*s at most maxPageRows.
func (h *Handler) membersPage(r *http.Request, actor chat.Actor, gid chat.GroupID, pageNum int) (any, error) {
	size, err := queryInt(r, "pagesize")
	if err != nil {
		return nil, err
	}
	if size == 0 {
		size = 20
	}
	if size > maxMembersChunk {
		return nil, chat.Errorf(chat.CodeBadRequest, "pagesize is at most %d", maxMembersChunk)
	}
	if err := checkPageDepth("pagenum", "pagesize", pageNum, size); err != nil {
		return nil, err
	}
	cursor, ok, err := skipRows((pageNum-1)*size, maxMembersChunk, func(cursor string, limit int) (int, string, error) {
		p, err := h.svc.Members(r.Context(), actor, gid, cursor, limit)
		return len(p.Members), p.Next, err
	})
	if err != nil {
		return nil, err
	}
	var p chat.MemberPage // empty past the last page
	if ok {
		if p, err = h.svc.Members(r.Context(), actor, gid, cursor, size); err != nil {
			return nil, err
		}
	}
	return map[string]any{"data": affiliations(p.Members, false), "count": len(p.Members), "timestamp": now()}, nil
}

// inviteRequest is inviteUsersToGroup's body.
type inviteRequest struct {
	Usernames []string `json:"usernames"`
}

// inviteResult is the vendor's InviteUsersToGroupResult.
type inviteResult struct {
	Action string `json:"action"`
	ID     string `json:"id"`
	Result bool   `json:"result"`
	User   string `json:"user"`
	Reason string `json:"reason,omitempty"`
}

// invite: POST /{org}/{app}/chatgroups/{gid}/invite {usernames} -> {data:
// [{action: "invite", id, result, user}]}: the users join at once (seen
// has no invitations to accept); result is false for who was a member
// already.
func (h *Handler) invite(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	var req inviteRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	added, err := h.svc.AddMembers(r.Context(), actor, gid, req.Usernames)
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(added))
	for _, u := range added {
		in[u.Name] = true
	}
	out := make([]inviteResult, len(req.Usernames))
	for i, n := range req.Usernames {
		name, _ := chat.NormalizeName(n) // AddMembers accepted every name
		out[i] = inviteResult{Action: "invite", ID: gid.String(), Result: in[name], User: name}
		if !in[name] {
			out[i].Reason = "already in group"
		}
	}
	return dataReply{Data: out, Timestamp: now()}, nil
}

// removeResult is the vendor's RemoveGroupMemberResult.
type removeResult struct {
	Action  string `json:"action"`
	GroupID string `json:"groupid"`
	Result  bool   `json:"result"`
	User    string `json:"user"`
}

// removeMembers: DELETE /{org}/{app}/chatgroups/{gid}/users/{name[,name...]}
// -> {data: RemoveGroupMemberResult} for one name, a list for several.
// The names are removed in order; the first refusal stops and is the
// answer (the ones before it stay removed, as each is its own change).
func (h *Handler) removeMembers(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	list := names(r.PathValue("usernames"))
	if len(list) == 0 || len(list) > chat.MaxBulkUsers {
		return nil, chat.Errorf(chat.CodeBadRequest, "name 1-%d users to remove", chat.MaxBulkUsers)
	}
	out := make([]removeResult, len(list))
	for i, n := range list {
		if err := h.svc.RemoveMember(r.Context(), actor, gid, n); err != nil {
			return nil, err
		}
		name, _ := chat.NormalizeName(n) // RemoveMember accepted it
		out[i] = removeResult{Action: "remove_member", GroupID: gid.String(), Result: true, User: name}
	}
	if len(out) == 1 {
		return dataReply{Data: out[0], Timestamp: now()}, nil
	}
	return dataReply{Data: out, Timestamp: now()}, nil
}

// admins: GET /{org}/{app}/chatgroups/{gid}/admin -> {data: [name]}: the
// admins, without the owner, as the vendor lists them.
func (h *Handler) admins(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	ms, err := h.svc.Admins(r.Context(), actor, gid)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, m := range ms {
		if m.Role == chat.RoleAdmin {
			out = append(out, m.Name)
		}
	}
	return dataReply{Data: out, Timestamp: now()}, nil
}

// setAdminRequest is setAdmin's body.
type setAdminRequest struct {
	NewAdmin string `json:"newadmin"`
}

// setAdmin: POST /{org}/{app}/chatgroups/{gid}/admin {newadmin} -> {data:
// {result: "success", newadmin}}.
func (h *Handler) setAdmin(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	var req setAdminRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.NewAdmin == "" {
		return nil, chat.Errorf(chat.CodeBadRequest, "newadmin is required")
	}
	if err := h.svc.SetAdmin(r.Context(), actor, gid, req.NewAdmin, true); err != nil {
		return nil, err
	}
	name, _ := chat.NormalizeName(req.NewAdmin) // SetAdmin accepted it
	return dataReply{Data: map[string]string{"result": "success", "newadmin": name}, Timestamp: now()}, nil
}

// removeAdmin: DELETE /{org}/{app}/chatgroups/{gid}/admin/{name} -> {data:
// {result: "success", oldadmin}}.
func (h *Handler) removeAdmin(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	if err := h.svc.SetAdmin(r.Context(), actor, gid, r.PathValue("username"), false); err != nil {
		return nil, err
	}
	name, _ := chat.NormalizeName(r.PathValue("username")) // SetAdmin accepted it
	return dataReply{Data: map[string]string{"result": "success", "oldadmin": name}, Timestamp: now()}, nil
}

// leave: DELETE /{org}/{app}/chatgroups/{gid}/quit -> {data: {result: true}}.
func (h *Handler) leave(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	if err := h.svc.Leave(r.Context(), actor, gid); err != nil {
		return nil, err
	}
	return dataReply{Data: map[string]bool{"result": true}, Timestamp: now()}, nil
}

// destroyGroup: DELETE /{org}/{app}/chatgroups/{gid} -> {data: {success:
// true, id, groupid}} (owner only).
func (h *Handler) destroyGroup(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DestroyGroup(r.Context(), actor, gid); err != nil {
		return nil, err
	}
	return dataReply{Data: map[string]any{"success": true, "id": gid.String(), "groupid": gid.String()}, Timestamp: now()}, nil
}

// joinedGroup is one entry of joined_chatgroups: the old SDK calls read
// groupid/groupname, the paged ones id/name.
type joinedGroup struct {
	GroupID   string `json:"groupid"`
	GroupName string `json:"groupname"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Disabled  bool   `json:"disabled"`
}

// maxGroupsChunk is the largest page of chat's MyGroups.
const maxGroupsChunk = 500

// joinedGroups: GET /{org}/{app}/users/{me}/joined_chatgroups[?pagenum&pagesize]
// -> {uri, data: [group], entities: []}. Without pagenum, the first 500
// groups; pagenum*pagesize is at most maxPageRows. The SDK looks for
// "joined_chatgroups" in uri.
func (h *Handler) joinedGroups(r *http.Request, actor chat.Actor) (any, error) {
	if err := h.self(r, actor); err != nil {
		return nil, err
	}
	pageNum, err := queryInt(r, "pagenum")
	if err != nil {
		return nil, err
	}
	size, err := queryInt(r, "pagesize")
	if err != nil {
		return nil, err
	}
	switch {
	case pageNum == 0:
		pageNum, size = 1, 500
	case size == 0:
		size = 20
	case size > maxGroupsChunk:
		return nil, chat.Errorf(chat.CodeBadRequest, "pagesize is at most %d", maxGroupsChunk)
	}
	// Page 0 and 1 are the first page (the SDK counts from either).
	pageNum = max(pageNum, 1)
	if err := checkPageDepth("pagenum", "pagesize", pageNum, size); err != nil {
		return nil, err
	}
	cursor, ok, err := skipRows((pageNum-1)*size, maxGroupsChunk, func(cursor string, limit int) (int, string, error) {
		p, err := h.svc.MyGroups(r.Context(), actor, cursor, limit)
		return len(p.Groups), p.Next, err
	})
	if err != nil {
		return nil, err
	}
	var p chat.GroupPage // empty past the last page
	if ok {
		if p, err = h.svc.MyGroups(r.Context(), actor, cursor, size); err != nil {
			return nil, err
		}
	}
	out := []joinedGroup{}
	for _, g := range p.Groups {
		id := g.ID.String()
		out = append(out, joinedGroup{GroupID: id, GroupName: g.Name, ID: id, Name: g.Name})
	}
	uri := h.Prefix() + "users/" + actor.Name + "/joined_chatgroups"
	return map[string]any{"uri": uri, "data": out, "entities": []any{}, "count": len(out), "timestamp": now()}, nil
}

// changeOwnerRequest is changeOwner's body. modifyGroup sends the same
// method and path with groupname, description, avatar and custom instead.
type changeOwnerRequest struct {
	NewOwner *string `json:"newowner"`
}

// changeOwner: PUT /{org}/{app}/chatgroups/{gid} {newowner} -> {data:
// {newowner: true}} (owner only). Without newowner it is modifyGroup,
// which seen does not support yet: a clear error, nothing changed.
func (h *Handler) changeOwner(r *http.Request, actor chat.Actor) (any, error) {
	gid, err := groupID(r)
	if err != nil {
		return nil, err
	}
	var req changeOwnerRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.NewOwner == nil {
		return nil, chat.Errorf(chat.CodeNotAllowed, "seen cannot change a group's name, description, avatar or custom yet (modifyGroup); only its owner (newowner)")
	}
	if err := h.svc.TransferOwner(r.Context(), actor, gid, *req.NewOwner); err != nil {
		return nil, err
	}
	return dataReply{Data: map[string]bool{"newowner": true}, Timestamp: now()}, nil
}
