//go:build !linux

package wsconn

// waitReadable does not wait off Linux: the read that follows blocks, with
// its buffer.
func (c *Conn) waitReadable() error { return nil }

// canTryWrite: TryWriteMessages takes nothing off Linux.
const canTryWrite = false

func (c *Conn) writev(b *batch) (int64, error) { return 0, nil }
