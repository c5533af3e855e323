package httpapi

import (
	"net/http"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// createGroup: POST /api/v1/groups (owned by the caller) and POST
// /api/v1/admin/groups (owned by "owner") -> 201 group.
func (a *API) createGroup(r *http.Request, actor chat.Actor) (int, any, error) {
	var spec chat.GroupSpec
	if actor.Admin {
		var req adminGroupCreate
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		spec = wire.GroupSpec(req.GroupCreate, req.Owner)
	} else {
		var req protocol.GroupCreate
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		spec = wire.GroupSpec(req, "")
	}
	g, err := a.svc.CreateGroup(r.Context(), actor, spec)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, wire.Group(g), nil
}

// myGroups: GET /api/v1/groups?cursor&limit -> {"groups", "cursor"}.
func (a *API) myGroups(r *http.Request, actor chat.Actor) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.MyGroups(r.Context(), actor, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.GroupMineReply(p), nil
}

// groupInfo: GET /api/v1/groups/{groupId} -> group.
func (a *API) groupInfo(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	g, err := a.svc.GroupInfo(r.Context(), actor, gid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.Group(g), nil
}

// onGroup is the shape of the group endpoints that reply 204: it reads
// {groupId}, then runs act on it.
func onGroup(r *http.Request, act func(chat.GroupID) error) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	if err := act(gid); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// destroyGroup: DELETE /api/v1/groups/{groupId} -> 204 (owner only).
func (a *API) destroyGroup(r *http.Request, actor chat.Actor) (int, any, error) {
	return onGroup(r, func(g chat.GroupID) error {
		return a.svc.DestroyGroup(r.Context(), actor, g)
	})
}

// addMembers: POST /api/v1/groups/{groupId}/members {users} (and the
// admin twin) -> {"added": [...]}: the users who were not members yet.
func (a *API) addMembers(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	var req usersRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	added, err := a.svc.AddMembers(r.Context(), actor, gid, req.Users)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.GroupAddReply(added), nil
}

// removeMember: DELETE /api/v1/groups/{groupId}/members/{username} -> 204.
func (a *API) removeMember(r *http.Request, actor chat.Actor) (int, any, error) {
	return onGroup(r, func(g chat.GroupID) error {
		return a.svc.RemoveMember(r.Context(), actor, g, r.PathValue("username"))
	})
}

// members: GET /api/v1/groups/{groupId}/members?cursor&limit ->
// {"members", "cursor"}.
func (a *API) members(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	p, err := a.svc.Members(r.Context(), actor, gid, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.GroupMembersReply(p), nil
}

// admins: GET /api/v1/groups/{groupId}/admins -> {"members"}: the owner
// and the admins.
func (a *API) admins(r *http.Request, actor chat.Actor) (int, any, error) {
	gid, err := groupID(r)
	if err != nil {
		return 0, nil, err
	}
	ms, err := a.svc.Admins(r.Context(), actor, gid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.GroupAdminsReply(ms), nil
}

// setAdmin: PUT /api/v1/groups/{groupId}/admins/{username} -> 204.
func (a *API) setAdmin(r *http.Request, actor chat.Actor) (int, any, error) {
	return a.changeAdmin(r, actor, true)
}

// removeAdmin: DELETE /api/v1/groups/{groupId}/admins/{username} -> 204.
func (a *API) removeAdmin(r *http.Request, actor chat.Actor) (int, any, error) {
	return a.changeAdmin(r, actor, false)
}

func (a *API) changeAdmin(r *http.Request, actor chat.Actor, admin bool) (int, any, error) {
	return onGroup(r, func(g chat.GroupID) error {
		return a.svc.SetAdmin(r.Context(), actor, g, r.PathValue("username"), admin)
	})
}

// transferOwner: PUT /api/v1/groups/{groupId}/owner {user} -> 204.
func (a *API) transferOwner(r *http.Request, actor chat.Actor) (int, any, error) {
	return onGroup(r, func(g chat.GroupID) error {
		var req userRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := required("user", req.User); err != nil {
			return err
		}
		return a.svc.TransferOwner(r.Context(), actor, g, req.User)
	})
}

// leaveGroup: POST /api/v1/groups/{groupId}/leave -> 204 (no body).
func (a *API) leaveGroup(r *http.Request, actor chat.Actor) (int, any, error) {
	return onGroup(r, func(g chat.GroupID) error {
		return a.svc.Leave(r.Context(), actor, g)
	})
}
