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
