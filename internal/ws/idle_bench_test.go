package ws

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"seen/internal/protocol"
	"seen/internal/wsconn"
)

// idleConns is how many idle connections BenchmarkIdleSession opens.
const idleConns = 2000

// BenchmarkIdleSession reports what an authenticated idle connection costs
// the server: the growth of the heap and the stacks in use (MemStats
// HeapInuse+StackInuse, after a GC) per connection, over idleConns
// connections whose client is another process (this test binary, run as
// idleClient), so that the client's memory is not counted.
func BenchmarkIdleSession(b *testing.B) {
	cfg := Config{MaxConnsPerAddr: 2 * idleConns, MaxUnauthConns: 2 * idleConns, MaxUnauthPerAddr: 2 * idleConns}
	for b.Loop() {
		st := newStack(b, cfg)
		st.users(b, "alice")
		token := st.token(b, "alice")
		before := inUse()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SEEN_WS_IDLE_CLIENT="+st.url, "SEEN_WS_IDLE_TOKEN="+token, "SEEN_WS_IDLE_N="+strconv.Itoa(idleConns))
		stdin, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			b.Fatalf("idle client: %q, %v", line, err)
		}
		if n := len(st.sessionsOf("alice")); n != idleConns {
			b.Fatalf("sessions = %d, want %d", n, idleConns)
		}
		time.Sleep(100 * time.Millisecond) // let the auth replies' buffers go
		after := inUse()
		b.ReportMetric(float64(after-before)/idleConns/1024, "KiB/conn")
		stdin.Close()
		cmd.Wait()
		st.stop()
	}
}

// inUse is the heap and the stacks in use, after a GC.
func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// idleClient is the client process of BenchmarkIdleSession: it opens the
// connections, authenticates each, says "ready", and holds them until its
// stdin closes.
func idleClient(url string) error {
	n, _ := strconv.Atoi(os.Getenv("SEEN_WS_IDLE_N"))
	token := os.Getenv("SEEN_WS_IDLE_TOKEN")
	conns := make([]*wsconn.Conn, 0, n)
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		c, err := wsconn.Dial(ctx, url, nil, nil)
		cancel()
		if err != nil {
			return err
		}
		auth := fmt.Sprintf(`{"id":"auth","op":"auth","data":{"token":%q,"device":"d%d","version":%d}}`, token, i, protocol.Version)
		if _, err := c.WriteMessages(wait, false, []byte(auth)); err != nil {
			return err
		}
		if _, _, err := c.ReadMessage(1 << 20); err != nil {
			return err
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.CloseNow()
	}
	return nil
}
