package httpapi

// The JSON bodies of the REST API. Where an endpoint has a WebSocket twin,
// its request and reply are the op's data types of internal/protocol,
// converted by internal/wire exactly as the WebSocket API converts them,
// so that REST and WebSocket clients decode the same objects. The
// REST-only bodies are defined here.

import (
	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// errorBody is the body of every error reply.
type errorBody struct {
	Error *protocol.Error `json:"error"`
}

// Accounts.

type credentialsRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (c credentialsRequest) chat() chat.Credentials {
	return chat.Credentials{Username: c.Username, Password: c.Password}
}

type userJSON struct {
	Username  string `json:"username"`
	CreatedAt int64  `json:"createdAt,omitempty"`
}

func encodeUser(u chat.User) userJSON {
	return userJSON{Username: u.Name, CreatedAt: wire.Millis(u.CreatedAt)}
}

type usersReply struct {
	Users  []userJSON `json:"users"`
	Cursor string     `json:"cursor"`
}

func encodeUsers(us []chat.User) []userJSON {
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = encodeUser(u)
	}
	return out
}

// tokenReply follows the Easemob token reply: snake_case, expiry in
// seconds.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	User        string `json:"user"`
}

type passwordRequest struct {
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

// Groups.

// adminGroupCreate is group.create plus the owner, for the admin API.
type adminGroupCreate struct {
	protocol.GroupCreate
	Owner string `json:"owner"`
}

// usersRequest is the body of the add-members endpoints (group.add
// without the group id, which is in the path).
type usersRequest struct {
	Users []string `json:"users"`
}

// userRequest is the body of the transfer endpoint.
type userRequest struct {
	User string `json:"user"`
}

// Receipts.

// ackRequest is the body of the receipts endpoint (receipt.ack without
// the group id, which is in the path).
type ackRequest struct {
	Items []protocol.AckItem `json:"items"`
}
