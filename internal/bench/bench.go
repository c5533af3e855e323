// Package bench is `seen bench`: load generators that drive a real seen
// server over real WebSockets and report what they measured.
package bench

import (
	"bufio"
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
	"strconv"
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
	}
	fmt.Fprintf(stderr, "seen bench: unknown benchmark %q (known: receipts)\n", args[0])
	return 2
}

// serverProc is a seen server the benchmark started as a child process,
// so that its CPU time and memory are measured apart from the load.
type serverProc struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	admin string
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs this executable's `serve` with a fresh data directory
// (or the given PostgreSQL URL) and waits until /healthz answers.
func startServer(ctx context.Context, dataDir, postgres string, extra []string, log io.Writer) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the seen executable: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	admin := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir,
		"--admin-token", admin, "--password-cost", "4", "--log-level", "warn",
		// Every bench connection comes from this one address.
		"--max-conns-per-addr", "2000000", "--max-unauth-per-addr", "1024"}
	if postgres != "" {
		args = append(args, "--postgres", postgres)
	}
	args = append(args, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	p := &serverProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), admin: admin}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, errors.New("the server did not become healthy within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// usage returns the child's CPU time (user+system) and peak resident
// memory, from /proc.
func (p *serverProc) usage() (cpu time.Duration, peakRSS int64, err error) {
	pid := p.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may contain spaces) start after ")".
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clk = 100 // USER_HZ on Linux
	cpu = time.Duration(utime+stime) * time.Second / clk
	st, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return cpu, 0, err
	}
	defer st.Close()
	sc := bufio.NewScanner(st)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			peakRSS = kb << 10
		}
	}
	return cpu, peakRSS, nil
}

func (p *serverProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
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
