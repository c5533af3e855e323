package httpapi

// The JSON bodies of the REST API. Where an endpoint has a WebSocket twin,
// its request and reply are the op's data types of internal/protocol,
// converted by internal/wire exactly as the WebSocket API converts them,
// so that REST and WebSocket clients decode the same objects. The
// REST-only bodies are defined here.

import (
	"encoding/json"
	"strconv"

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

// Reminders and policy. Their replies, and the settings' bodies, are the
// WebSocket ops' (receipt.remind, receipt.analytics, group.policy,
// user.settings), converted by internal/wire.

// remindRequest is receipt.remind without the group and message, which
// are in the path.
type remindRequest struct {
	Users []string `json:"users"`
}

// policyRequest is group.setPolicy without the group, which is in the
// path: the fields present change.
type policyRequest struct {
	Request    *string `json:"request"`
	Visibility *string `json:"visibility"`
	Lists      *bool   `json:"lists"`
}

// Webhook deliveries (admin).

// deliveryJSON is a webhook event whose delivery failed for good.
type deliveryJSON struct {
	ID        string          `json:"id"`
	Target    string          `json:"target"`
	Kind      string          `json:"kind"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt int64           `json:"createdAt"`
	Attempts  int             `json:"attempts"`
	NextAt    int64           `json:"nextAt"`
	LastError string          `json:"lastError"`
}

func encodeDeliveries(evs []chat.OutboxEvent) []deliveryJSON {
	out := make([]deliveryJSON, len(evs))
	for i, e := range evs {
		p := e.Payload
		if len(p) == 0 {
			p = json.RawMessage("null")
		}
		out[i] = deliveryJSON{
			ID: strconv.FormatInt(e.ID, 10), Target: e.Target, Kind: string(e.Kind), Payload: p,
			CreatedAt: wire.Millis(e.CreatedAt), Attempts: e.Attempts, NextAt: wire.Millis(e.NextAt), LastError: e.LastError,
		}
	}
	return out
}

type deliveriesReply struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	Cursor     string         `json:"cursor"`
}

// retryRequest names the failed deliveries to retry: ids, or all.
type retryRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

type retryReply struct {
	Retried int `json:"retried"`
}
