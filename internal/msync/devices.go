package msync

import (
	"sync"

	"seen/internal/chat"
	"seen/internal/msync/pb"
)

// Device bookkeeping on this node.
//
// The SDK's resource is the chat device (kept in localStorage, so every
// tab of a browser shares it) and a device has one position on each
// stream. Two sessions of one device would both confirm it, each past
// what only the other pulled: a PROVISION of a device that has a live
// session here kicks the older one, as the vendor's server does.
//
// The server ids of the messages a device sent outlive its session: the
// SDK has them from the send's answer and must not pull them back as
// new on its next connection (agora-chat sends no LOGOUT, so its last
// pull often never confirmed past them). The store does not keep the
// sending device (chat.Message.OriginDevice), so this memory is the
// node's: a reconnection to another node or after a restart pulls them
// back (docs/easemob-compat.md).

// deviceKey names a device of a user.
type deviceKey struct {
	user   chat.UserID
	device chat.DeviceID
}

// device is what the node keeps of a device.
type device struct {
	sess *session // the live session, nil once it ended
	sent *idSet   // server ids of messages it sent
}

// Bounds of the device bookkeeping.
const (
	sentPerDevice = 1024 // sent ids remembered per device
	idleDevices   = 4096 // devices without a session remembered
)

// devices is the node's device bookkeeping; it takes no other lock.
type devices struct {
	mu   sync.Mutex
	m    map[deviceKey]*device
	idle int // entries with no session
}

func newDevices() *devices { return &devices{m: make(map[deviceKey]*device)} }

// claim makes s the device's session, returning its sent ids and the
// session it replaces (nil: none).
func (d *devices) claim(k deviceKey, s *session) (sent *idSet, old *session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dev := d.m[k]
	if dev == nil {
		dev = &device{sent: newIDSet(sentPerDevice)}
		d.m[k] = dev
	} else if dev.sess == nil {
		d.idle--
	}
	old, dev.sess = dev.sess, s
	return dev.sent, old
}

// release forgets s as the device's session, unless a newer one claimed
// it; past idleDevices, devices without a session are forgotten.
func (d *devices) release(k deviceKey, s *session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dev := d.m[k]
	if dev == nil || dev.sess != s {
		return
	}
	dev.sess = nil
	d.idle++
	for key, v := range d.m {
		if d.idle <= idleDevices {
			break
		}
		if v.sess == nil {
			delete(d.m, key)
			d.idle--
		}
	}
}

// replaced tells an older session of the device that a newer one logged
// in, with the kick statistic (the SDK's onError 206), and closes it.
func (s *session) replaced() {
	op := pb.StatisticsBody_USER_LOGIN_ANOTHER_DEVICE
	meta, err := statsMeta(s.srv.freshID(), s.srv.now(), s.queue, &pb.StatisticsBody{Operation: &op})
	if err == nil {
		s.pushMetas(meta)
	}
	s.close(closeReplaced, "logged in on another connection of the device", true)
}
