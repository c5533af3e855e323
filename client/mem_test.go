package client_test

// BenchmarkIdleConns measures what an idle connected client costs: the
// server runs in a child process (this test binary, re-executed), so the
// heap and stacks measured here are the clients' alone.
//
//	go test -run '^$' -bench IdleConns -benchtime 1x ./client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"seen/client"
	"seen/internal/server"
)

const childEnv = "SEEN_CLIENT_TEST_CHILD_NODE"

// childNode runs a seen server until stdin closes, printing its URL.
func childNode() {
	dir, err := os.MkdirTemp("", "seen-client-child-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.PasswordCost = 4
	cfg.WS.MaxConnsPerAddr = 20_000
	s, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Serving()
	fmt.Println(s.URL())
	io.Copy(io.Discard, os.Stdin)
	cancel()
	<-done
}

// startChild starts a seen server in a child process and returns its base
// URL.
func startChild(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("child server: %v", err)
	}
	return strings.TrimSpace(line)
}

func BenchmarkIdleConns(b *testing.B) {
	const n = 1000
	base := startChild(b)
	ctx := context.Background()
	if err := client.Register(ctx, base, "idle", "password"); err != nil {
		b.Fatal(err)
	}
	tok, err := client.Login(ctx, base, "idle", "password")
	if err != nil {
		b.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	for _, tc := range []struct {
		name string
		opts []client.Option
	}{
		{"default", nil},
		{"coder", []client.Option{client.WithHTTPClient(&http.Client{})}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				g0 := runtime.NumGoroutine()
				conns := make([]*client.Conn, n)
				for i := range conns {
					c, err := client.Dial(ctx, ws, tok, fmt.Sprintf("d%d", i), tc.opts...)
					if err != nil {
						b.Fatalf("Dial %d: %v", i, err)
					}
					conns[i] = c
				}
				time.Sleep(100 * time.Millisecond) // let the last handshakes settle
				runtime.GC()
				runtime.GC()
				runtime.GC()
				runtime.GC() // stacks shrink by half at each GC
				runtime.ReadMemStats(&after)
				g1 := runtime.NumGoroutine()
				heap := float64(after.HeapInuse) - float64(before.HeapInuse)
				stack := float64(after.StackInuse) - float64(before.StackInuse)
				b.ReportMetric(heap/n, "heap-B/conn")
				b.ReportMetric(stack/n, "stack-B/conn")
				b.ReportMetric((heap+stack)/n, "B/conn")
				b.ReportMetric(float64(g1-g0)/n, "goroutines/conn")
				for _, c := range conns {
					c.Close()
				}
			}
		})
	}
}
