package ws

import (
	"encoding/json"
	"fmt"

	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// pushCodec is the hub.Codec of this protocol's sessions: the hub
// encodes each event once for all of them.
type pushCodec struct{}

// Encode encodes the push frame of ev; its kind is "push.<name>".
func (pushCodec) Encode(ev chat.Event) (hub.Frame, bool, error) {
	kind, frame, ok, err := pushFrame(ev)
	return hub.Frame{Kind: "push." + kind, Data: frame}, ok, err
}

// pushFrame encodes the push frame of a bus event (wire.Push), once for
// all the sessions it fans out to. ok is false for events that are not
// pushed, and for those that could not be encoded (err says why).
// EventRevoked is acted on by the session and never sent: its kind is
// "revoked", with no frame.
func pushFrame(ev chat.Event) (kind string, frame []byte, ok bool, err error) {
	if ev.Kind == chat.EventRevoked {
		return "revoked", nil, ev.Revoked != nil, nil
	}
	kind, data, ok := wire.Push(ev)
	if !ok {
		return "", nil, false, nil
	}
	frame, err = encodePush(kind, data)
	if err != nil {
		return "", nil, false, err
	}
	return kind, frame, true, nil
}

// encodePush encodes a push frame.
func encodePush(kind string, data any) ([]byte, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s push: %w", kind, err)
	}
	frame, err := encodeFrame(protocol.Push{Push: kind, Data: b})
	if err != nil {
		return nil, fmt.Errorf("encode %s push: %w", kind, err)
	}
	return frame, nil
}
