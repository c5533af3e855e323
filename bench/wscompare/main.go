// Command wscompare measures Go WebSocket server libraries on seen's own
// frames: the RSS and goroutines an idle authenticated connection costs, and
// the server CPU per receipt.ack with a reply per ack and a push every
// 100 ms. Each server runs in a child process so its RSS and CPU are its
// own; the load (one client, gobwas/ws framing, for every server) runs in
// this process.
//
//	go run . -lib all -runs 3
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		lib      = flag.String("lib", "all", "server library: all, or one of "+strings.Join(libs, ", "))
		conns    = flag.Int("conns", 10000, "idle connections (at most 10000: one process holds at most 20000 files)")
		hotConns = flag.Int("hotconns", 1000, "connections in the hot-path run")
		frames   = flag.Int("frames", 100, "acks each hot-path connection sends")
		window   = flag.Int("window", 1, "acks each hot-path connection keeps awaiting their replies")
		perf     = flag.Bool("syscalls", false, "count the server's syscalls per ack in hot runs with perf stat (adds overhead: take CPU numbers from a run without it)")
		runs     = flag.Int("runs", 3, "runs of each measurement; the table shows medians")
		mode     = flag.String("mode", "all", "idle, hot or all")
		child    = flag.String("serve", "", "internal: run as the server child for this library")
		pushes   = flag.Bool("push", false, "internal: push to the first authenticated conn every 100 ms")
	)
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *pushes); err != nil {
			log.Fatalf("server %s: %v", *child, err)
		}
		return
	}
	list := libs
	if *lib != "all" {
		if !slices.Contains(libs, *lib) {
			log.Fatalf("unknown -lib %q: want all or one of %v", *lib, libs)
		}
		list = []string{*lib}
	}
	switch {
	case *mode != "all" && *mode != "idle" && *mode != "hot":
		log.Fatalf("-mode %q: want idle, hot or all", *mode)
	case *conns < 1 || *conns > 10000, *hotConns < 1 || *hotConns > 10000:
		log.Fatal("-conns and -hotconns must be in 1..10000")
	case *frames < 1 || *runs < 1 || *window < 1:
		log.Fatal("-frames, -runs and -window must be at least 1")
	}
	fmt.Printf("%s, GOMAXPROCS %d, %d CPUs; load and server share them\n\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), runtime.NumCPU())
	var rows []string
	for _, l := range list {
		var idle, idleGC, gor, cpu, rate, sys []float64
		for r := 0; r < *runs; r++ {
			if *mode != "hot" {
				res, err := idleRun(l, *conns)
				if err != nil {
					log.Fatalf("%s idle: %v", l, err)
				}
				log.Printf("%s idle run %d: %.2f KiB/conn (%.2f before FreeOSMemory), %.2f goroutines/conn", l, r+1, res.kib, res.kibGC, res.gor)
				idle, idleGC, gor = append(idle, res.kib), append(idleGC, res.kibGC), append(gor, res.gor)
			}
			if *mode != "idle" {
				res, err := hotRun(l, *hotConns, *frames, *window, *perf)
				if err != nil {
					log.Fatalf("%s hot: %v", l, err)
				}
				log.Printf("%s hot run %d: %.1f µs server CPU/ack, %.0f acks/s, %.2f syscalls/ack, %d pushes", l, r+1, res.usPerAck, res.rate, res.syscalls, res.pushes)
				cpu, rate = append(cpu, res.usPerAck), append(rate, res.rate)
				if res.syscalls >= 0 {
					sys = append(sys, res.syscalls)
				}
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s |", l, styles[l],
			med(idle, "%.1f"), med(idleGC, "%.1f"), med(gor, "%.2f"), med(cpu, "%.1f"), med(rate, "%.0f"), med(sys, "%.2f")))
	}
	fmt.Printf("idle: %d conns; hot: %d conns x %d acks, %d in flight per conn; medians of %d runs\n\n", *conns, *hotConns, *frames, *window, *runs)
	fmt.Println("| library | style | idle KiB/conn | idle KiB/conn, GC only | goroutines/conn | µs server CPU/ack | acks/s | server syscalls/ack |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

var styles = map[string]string{
	"coder":    "goroutine per conn, Read/Write(ctx)",
	"gorilla":  "goroutine per conn, ReadMessage/WriteMessage",
	"gws":      "goroutine per conn (ReadLoop), OnMessage/WriteMessage",
	"gobwas-a": "goroutine per conn, wsutil.ReadClientData/WriteServerMessage",
	"gobwas-b": "goroutine per conn parked in RawConn.Read without a buffer, pooled bufio, writev",
	"gobwas-c": "as gobwas-b, but the RawConn.Read callback reads into a pooled buffer (no MSG_PEEK)",
	"nbio":     "event loop (non-blocking), OnMessage/WriteMessage",
}

func med(v []float64, f string) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf(f, s[len(s)/2])
}

// runChild serves lib on a loopback port, prints the address, then answers
// "gc" (runtime.GC) and "free" (debug.FreeOSMemory) on stdin with the
// number of goroutines, until stdin closes.
func runChild(lib string, pushes bool) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if err := serve(lib, ln); err != nil {
		return err
	}
	if pushes {
		go func() {
			for range time.Tick(100 * time.Millisecond) {
				if f := sender.Load(); f != nil {
					(*f)()
				}
			}
		}()
	}
	fmt.Printf("addr %s\n", addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "gc":
			runtime.GC()
		case "free":
			debug.FreeOSMemory()
		}
		fmt.Printf("ok %d\n", runtime.NumGoroutine())
	}
	return sc.Err()
}

// server is a running child.
type server struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	addr string
}

func startServer(lib string, pushes bool) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", lib, "-push="+strconv.FormatBool(pushes))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, in: stdin, out: bufio.NewReader(stdout)}
	line, err := s.line("addr ")
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("server did not start: %v", err)
	}
	s.addr = line
	return s, nil
}

// do sends cmd ("gc" or "free") and returns the server's goroutine count.
func (s *server) do(cmd string) (int, error) {
	if _, err := fmt.Fprintln(s.in, cmd); err != nil {
		return 0, err
	}
	line, err := s.line("ok ")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(line)
}

// line returns the rest of the child's next output line that starts with
// prefix, passing any other line (a library's log) to stderr.
func (s *server) line(prefix string) (string, error) {
	for {
		l, err := s.out.ReadString('\n')
		if err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return rest, nil
		}
		os.Stderr.WriteString(l)
	}
}

func (s *server) stop() {
	s.in.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// rssKiB is the server's VmRSS.
func (s *server) rssKiB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuTicks is the server's utime+stime in clock ticks (100 a second).
func (s *server) cpuTicks() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	return u + st, errors.Join(err1, err2)
}

// rss returns VmRSS after runtime.GC and after debug.FreeOSMemory, and the
// goroutine count.
func (s *server) rss() (gcOnly, freed float64, gor int, err error) {
	if _, err = s.do("gc"); err != nil {
		return
	}
	if gcOnly, err = s.rssKiB(); err != nil {
		return
	}
	if gor, err = s.do("free"); err != nil {
		return
	}
	freed, err = s.rssKiB()
	return
}

type idleResult struct{ kib, kibGC, gor float64 }

func idleRun(lib string, n int) (idleResult, error) {
	s, err := startServer(lib, false)
	if err != nil {
		return idleResult{}, err
	}
	defer s.stop()
	gc0, free0, g0, err := s.rss()
	if err != nil {
		return idleResult{}, err
	}
	cs, err := dialAll(s.addr, n)
	defer closeAll(cs)
	if err != nil {
		return idleResult{}, err
	}
	time.Sleep(time.Second)
	gc1, free1, g1, err := s.rss()
	if err != nil {
		return idleResult{}, err
	}
	return idleResult{(free1 - free0) / float64(n), (gc1 - gc0) / float64(n), float64(g1-g0) / float64(n)}, nil
}

type hotResult struct {
	usPerAck, rate, syscalls float64
	pushes                   int64
}

func hotRun(lib string, n, m, w int, countSyscalls bool) (hotResult, error) {
	s, err := startServer(lib, true)
	if err != nil {
		return hotResult{}, err
	}
	defer s.stop()
	cs, err := dialAll(s.addr, n)
	defer closeAll(cs)
	if err != nil {
		return hotResult{}, err
	}
	var pushes atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	cpu0, err := s.cpuTicks()
	if err != nil {
		return hotResult{}, err
	}
	var perf *exec.Cmd
	var perfOut strings.Builder
	if countSyscalls {
		perf = exec.Command("perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", strconv.Itoa(s.cmd.Process.Pid))
		perf.Stderr = &perfOut
		if err := perf.Start(); err != nil {
			return hotResult{}, err
		}
		time.Sleep(500 * time.Millisecond) // let perf attach
	}
	t0 := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.acks(m, w)
			pushes.Add(p)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	cpu1, err := s.cpuTicks()
	if err != nil {
		return hotResult{}, err
	}
	close(errs)
	if err := <-errs; err != nil {
		return hotResult{}, err
	}
	total := float64(n * m)
	sys := -1.0
	if perf != nil {
		perf.Process.Signal(os.Interrupt)
		perf.Wait()
		f := strings.Split(strings.TrimSpace(perfOut.String()), ",")
		c, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return hotResult{}, fmt.Errorf("perf stat said %q", perfOut.String())
		}
		sys = c / total // includes the pushes and the 0.5 s before t0
	}
	return hotResult{
		syscalls: sys,
		usPerAck: float64(cpu1-cpu0) * 1e4 / total, // a tick is 10 ms = 1e4 µs
		rate:     total / el.Seconds(),
		pushes:   pushes.Load(),
	}, nil
}
