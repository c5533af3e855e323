//go:build !linux

package wsconn

// waitReadable does not wait off Linux: the read that follows blocks, with
// its buffer.
func (c *Conn) waitReadable() error { return nil }
