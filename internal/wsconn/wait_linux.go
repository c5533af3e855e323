package wsconn

import (
	"syscall"
	"unsafe"
)

// readable is the func of syscall.RawConn.Read that waits until the socket
// has bytes to read (or EOF, or an error) without a read buffer: the poller
// parks the goroutine. Its first call peeks (MSG_PEEK|MSG_DONTWAIT, 1 byte on
// the stack) rather than just returning false, because RawRead resets the
// poller's readiness before calling it: bytes that arrived earlier produce no
// new edge, and a blind false could wait forever with data in the socket.
// Later calls (after the poller's wake-up) return true.
func (c *Conn) readable(fd uintptr) bool {
	if c.waited {
		return true
	}
	c.waited = true
	var b [1]byte
	_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b)), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	// EAGAIN: nothing yet, wait. Anything else (bytes, EOF, an error): the
	// read that follows reports it.
	return e != syscall.EAGAIN
}

// waitReadable blocks until the socket is readable; see readable.
func (c *Conn) waitReadable() error {
	if c.rc == nil {
		return nil
	}
	if c.readableFn == nil {
		c.readableFn = c.readable
	}
	c.waited = false
	return c.rc.Read(c.readableFn)
}

// canTryWrite: TryWriteMessages writes (writev) here.
const canTryWrite = true

// writev writes b's buffers with one non-blocking writev on the raw
// socket, never waiting for it to be writable: it returns how many bytes
// the socket took (0 when it had no room: EAGAIN, or EINTR). The caller
// holds wmu.
func (c *Conn) writev(b *batch) (int64, error) {
	for _, p := range b.orig {
		if len(p) > 0 {
			v := syscall.Iovec{Base: &p[0]}
			v.SetLen(len(p))
			b.iov = append(b.iov, v)
		}
	}
	if len(b.iov) == 0 {
		return 0, nil
	}
	var n uintptr
	var e syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		n, _, e = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&b.iov[0])), uintptr(len(b.iov)))
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case e == syscall.EAGAIN || e == syscall.EINTR:
		return 0, nil
	case e != 0:
		return 0, e
	}
	return int64(n), nil
}
