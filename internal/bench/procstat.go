package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is USER_HZ on Linux, the unit of utime and stime in /proc.
const clockTick = 100

// procCPU returns the CPU time (user + system) of process pid so far,
// from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return statCPU(stat)
}

func statCPU(stat []byte) (time.Duration, error) {
	// Fields after the command name (which may contain spaces) start after ")".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 > len(stat) {
		return 0, fmt.Errorf("unreadable /proc stat")
	}
	f := strings.Fields(string(stat[i+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTick, nil
}

// procMem returns VmRSS and VmHWM (peak RSS since start or since the last
// resetPeak) of process pid, in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	st, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	sc := bufio.NewScanner(st)
	kb := func(v string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n << 10
	}
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			hwm = kb(v)
		} else if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rss = kb(v)
		}
	}
	return rss, hwm, sc.Err()
}

// resetPeak resets pid's VmHWM to its current RSS (clear_refs "5"), so
// that a later procMem reports the peak of what follows.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// postgresCPU returns the CPU time of every process on this machine whose
// command is postgres (the server and its backends), summed. A backend
// that exits between two calls takes its time with it; seen keeps its
// pool's connections open, so across an ack phase that loses little.
func postgresCPU() (time.Duration, int) {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var sum time.Duration
	n := 0
	for _, p := range dirs {
		stat, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open || !bytes.HasPrefix(stat[open+1:end], []byte("postgres")) {
			continue
		}
		if cpu, err := statCPU(stat); err == nil {
			sum += cpu
			n++
		}
	}
	return sum, n
}

// memSampler records the largest VmRSS of a set of processes while it
// runs, summed over the processes at each sample.
type memSampler struct {
	pids []int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak int64
}

func sampleMem(pids []int, every time.Duration) *memSampler {
	s := &memSampler{pids: pids, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-t.C:
			case <-s.stop:
				s.sample()
				return
			}
		}
	}()
	return s
}

func (s *memSampler) sample() {
	var sum int64
	for _, pid := range s.pids {
		if rss, _, err := procMem(pid); err == nil {
			sum += rss
		}
	}
	s.mu.Lock()
	s.peak = max(s.peak, sum)
	s.mu.Unlock()
}

// end stops sampling and returns the peak.
func (s *memSampler) end() int64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
