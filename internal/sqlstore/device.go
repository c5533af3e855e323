package sqlstore

import (
	"context"

	"seen/internal/chat"
)

var (
	sqlDevice       = hot(`SELECT user_id, device_id, msg_seq, stat_seq, last_seen FROM devices WHERE user_id = ? AND device_id = ?`)
	sqlUpsertDevice = hot(`INSERT INTO devices (user_id, device_id, msg_seq, stat_seq, last_seen) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (user_id, device_id) DO UPDATE SET msg_seq = excluded.msg_seq, stat_seq = excluded.stat_seq, last_seen = excluded.last_seen`)
)

var sqlMaxDeviceSeqs = `SELECT COALESCE(MAX(msg_seq), 0), COALESCE(MAX(stat_seq), 0) FROM devices WHERE user_id = ?`

// MaxDeviceSeqs returns the furthest positions of u's devices.
func (t *tx) MaxDeviceSeqs(ctx context.Context, u chat.UserID) (int64, int64, error) {
	var m, s int64
	err := queryOne(ctx, t.q, sqlMaxDeviceSeqs, []any{int64(u)}, &m, &s)
	return m, s, wrap(err, "device positions of user %d", u)
}

// Device returns the state of device d of user u.
func (t *tx) Device(ctx context.Context, u chat.UserID, d chat.DeviceID) (chat.Device, error) {
	var v chat.Device
	var id string
	err := queryOne(ctx, t.q, sqlDevice, []any{int64(u), string(d)}, &v.UserID, &id, &v.MsgSeq, &v.StatSeq, msTime{&v.LastSeen})
	if err != nil {
		return chat.Device{}, wrap(err, "device %q of user %d", d, u)
	}
	v.ID = chat.DeviceID(id)
	return v, nil
}

// UpsertDevice stores d, replacing its previous state.
func (t *tx) UpsertDevice(ctx context.Context, d chat.Device) error {
	_, err := t.q.exec(ctx, sqlUpsertDevice, int64(d.UserID), string(d.ID), d.MsgSeq, d.StatSeq, toMS(d.LastSeen))
	return wrap(err, "upsert device %q of user %d", d.ID, d.UserID)
}
