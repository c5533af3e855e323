package msync_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"seen/internal/admit"
	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/hub"
	"seen/internal/msync"
	"seen/internal/msync/pb"
	"seen/internal/sqlstore"
)

// BenchmarkIdleSession measures what an idle authenticated msync
// connection costs the server: n sessions past PROVISION, each with its
// read loop waiting for a frame (and no flusher: none runs while nothing
// is queued). The
// clients are bare sockets after the handshake (no goroutine, no buffer),
// so nearly all of it is the server's. It reports heap+stack and RSS
// growth per connection. Run with -benchtime=1x.
func BenchmarkIdleSession(b *testing.B) {
	const n = 2000
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "seen.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pw, _ := auth.NewBcrypt(4)
	bs := bus.NewLocal()
	svc, err := chat.NewService(chat.DefaultConfig(), chat.Deps{Store: st, Bus: bs, Passwords: pw})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Register(ctx, chat.Credentials{Username: "alice", Password: "password"}); err != nil {
		b.Fatal(err)
	}
	g, err := svc.Login(ctx, chat.Credentials{Username: "alice", Password: "password"})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cfg := msync.Config{AppKey: appKey, Admission: admit.New(admit.Config{MaxConnsPerAddr: 10 * n})}
	ms, err := msync.New(cfg, svc, hub.New(bs, log), log)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(ms)
	defer hs.Close()
	defer ms.Close(ctx)
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	for range b.N {
		before := memNow()
		conns := make([]net.Conn, 0, n)
		for i := range n {
			c, err := provisionBare(ctx, url, g.Token, fmt.Sprint("webim_", i))
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		time.Sleep(200 * time.Millisecond) // let the sessions settle
		after := memNow()
		after.report(b, before, n)
		for _, c := range conns {
			c.Close()
		}
	}
}

// provisionBare logs in on a bare socket and waits for the PROVISION
// answer.
func provisionBare(ctx context.Context, url, token, res string) (net.Conn, error) {
	c, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br)
		c.Close()
		return nil, fmt.Errorf("bytes before PROVISION")
	}
	payload, _ := proto.Marshal(&pb.Provision{Resource: proto.String(res)})
	f, _ := proto.Marshal(&pb.MSync{
		Version: pb.MSync_MSYNC_V1.Enum(), Command: pb.MSync_PROVISION.Enum(), Auth: proto.String("$t$" + token),
		Guid: &pb.JID{AppKey: proto.String(appKey), Name: proto.String("alice")}, Payload: payload,
	})
	if err := ws.WriteFrame(c, ws.MaskFrame(ws.NewBinaryFrame(f))); err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(wait))
	h, err := ws.ReadHeader(c)
	p := make([]byte, max(h.Length, 0))
	if err == nil {
		_, err = io.ReadFull(c, p)
	}
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return nil, err
	}
	var m pb.MSync
	if err := proto.Unmarshal(p, &m); err != nil || m.GetCommand() != pb.MSync_PROVISION {
		c.Close()
		return nil, fmt.Errorf("answer %v, %v", m.GetCommand(), err)
	}
	return c, nil
}

// mem is the heap and stack in use after GCs, and the RSS.
type mem struct{ heap, stack, rss uint64 }

func memNow() mem {
	for range 6 { // each GC halves the stacks that use under a quarter
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var size, res uint64
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		fmt.Sscan(string(b), &size, &res)
	}
	return mem{m.HeapInuse, m.StackInuse, res * 4096}
}

// report reports the growth from before per connection of n.
func (m mem) report(b *testing.B, before mem, n int) {
	per := func(a, z uint64) float64 { return (float64(a) - float64(z)) / float64(n) }
	b.ReportMetric(per(m.heap, before.heap), "heap-B/conn")
	b.ReportMetric(per(m.stack, before.stack), "stack-B/conn")
	b.ReportMetric(per(m.rss, before.rss), "rss-B/conn")
}
