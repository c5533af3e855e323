package main

// The frames every server and the client exchange, shaped like seen's own:
// an auth request and its reply, a receipt.ack and its reply, and the
// receipt push the sender gets every 100 ms. The servers do not decode them;
// they only tell an auth request from an ack by its id's first letter.
var (
	authReq   = []byte(`{"id":"a1","op":"auth","data":{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MDAwMDEiLCJleHAiOjE3NjQ2NTE3OTB9","dev":"d1"}}`)
	authReply = []byte(`{"id":"a1","op":"auth","ok":true,"data":{"userId":"u00001","sessionId":"s-0123456789abcdef","expiresAt":"2026-12-02T04:23:10Z","ts":1764648190000}}`)
	ackReq    = []byte(`{"id":"r123","op":"receipt.ack","data":{"groupId":"g1","items":[{"msgId":"12345"}]}}`)
	ackReply  = []byte(`{"id":"r123","ok":true,"data":{"groupId":"g1","acked":1,"seq":1234567,"ts":1764648190000}}`)
	push      = []byte(`{"op":"receipt.update","data":{"groupId":"g1","msgId":"12345","readCount":1000,"members":1000,"pending":0,"ts":1764648190000}}`)
)

// reply returns the reply to a request payload and whether it was an auth.
func reply(p []byte) ([]byte, bool) {
	if len(p) > 7 && p[7] == 'a' {
		return authReply, true
	}
	return ackReply, false
}
