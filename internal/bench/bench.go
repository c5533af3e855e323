// Package bench is `seen bench`: load generators that drive a real seen
// server over real WebSockets and report what they measured.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Main runs `seen bench <name> [flags]` and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		const usage = "usage: seen bench receipts [flags]   (seen bench receipts --help lists the flags)"
		if len(args) == 0 { // a mistake: usage on stderr, exit 2
			fmt.Fprintln(stderr, usage)
			return 2
		}
		fmt.Fprintln(stdout, usage) // asked for: exit 0
		return 0
	}
	switch args[0] {
	case "receipts":
		return runReceipts(ctx, args[1:], stdout, stderr)
	case "load-worker": // hidden: a child of receipts --load-procs
		return runLoadWorker(os.Stdin, stdout, stderr)
	case "floor-server": // hidden: a child of receipts --floor
		return runFloorServer(ctx, args[1:], stderr)
	}
	fmt.Fprintf(stderr, "seen bench: unknown benchmark %q (known: receipts)\n", args[0])
	return 2
}

// serverProc is a server the benchmark started as a child process (a
// seen node or the floor), so that its CPU time and memory are measured
// apart from the load.
type serverProc struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	admin string
	done  chan struct{} // closed when the process has ended
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// seenNode is how startServer starts one seen node.
type seenNode struct {
	dataDir  string
	postgres string // DSN; empty: SQLite in dataDir
	nats     string // with nodeID: one node of a cluster
	nodeID   string
	admin    string
	extra    []string
}

// startServer runs this executable's `serve` and waits until /healthz
// answers.
func startServer(ctx context.Context, n seenNode, log io.Writer) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", n.dataDir,
		"--admin-token", n.admin, "--password-cost", "4", "--log-level", "warn",
		// Every bench connection comes from a few addresses.
		"--max-conns-per-addr", "2000000", "--max-unauth-per-addr", "1024"}
	if n.postgres != "" {
		args = append(args, "--postgres", n.postgres)
	}
	if n.nats != "" {
		args = append(args, "--nats", n.nats, "--node-id", n.nodeID)
	}
	args = append(args, n.extra...)
	return startProc(ctx, port, n.admin, args, log)
}

// startProc runs this executable with args, which serve HTTP on
// 127.0.0.1:port, and waits until /healthz answers.
func startProc(ctx context.Context, port int, admin string, args []string, log io.Writer) (*serverProc, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	exited := make(chan struct{})
	p := &serverProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), admin: admin, done: exited}
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited before it served: %v", strings.Join(args[:min(2, len(args))], " "), cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, errors.New("the server did not become healthy within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

func (p *serverProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// api is a small REST caller for the admin and account endpoints.
type api struct {
	base  string
	token string
	hc    *http.Client
}

func (a api) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// wsURL turns an http(s) base URL into the WebSocket endpoint.
func wsURL(base string) string {
	if s, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + s + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}
