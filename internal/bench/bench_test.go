package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain builds the seen binary the benchmark starts its children from
// (servers, the floor, load workers): the test binary is not seen.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "seen-bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "seen")
	out, err := exec.Command("go", "build", "-o", bin, "seen/cmd/seen").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build seen: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	executable = func() (string, error) { return bin, nil }
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// receipts runs `seen bench receipts --json args...` and returns the exit
// code and the decoded columns.
func receipts(t *testing.T, args ...string) (int, []phaseJSON, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	code := Main(ctx, append([]string{"receipts", "--json"}, args...), &stdout, &stderr)
	var out struct {
		Runs []phaseJSON `json:"runs"`
	}
	if code != 2 && stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("decode the JSON output: %v\n%s", err, stdout.String())
		}
	}
	return code, out.Runs, stderr.String()
}

// checkRun asserts what every run must show: every ack counted, the
// counts reconciled with the server's, latencies and pushes measured.
func checkRun(t *testing.T, j phaseJSON, members, messages int) {
	t.Helper()
	if j.Acks != members*messages || !j.CountsOK || j.LoadErrors != 0 {
		t.Errorf("%s %s: acks %d (want %d), reconciled %v %v, load errors %d", j.Run, j.Phase, j.Acks, members*messages, j.CountsOK, j.CountErrors, j.LoadErrors)
	}
	if j.Pushes < messages || j.MaxPushesPerS < 1 {
		t.Errorf("%s %s: %d pushes to the sender, most per second %d: want at least one per message", j.Run, j.Phase, j.Pushes, j.MaxPushesPerS)
	}
	if j.Missing != 0 || j.MaxMs <= 0 {
		t.Errorf("%s %s: %d acks never reflected, max latency %v ms", j.Run, j.Phase, j.Missing, j.MaxMs)
	}
	// CPU time comes in 10 ms ticks: a tiny run may well take none.
	if j.ServerPeakMiB <= 0 || j.LoadPeakMiB <= 0 {
		t.Errorf("%s %s: server peak %v MiB, load peak %v MiB: not measured", j.Run, j.Phase, j.ServerPeakMiB, j.LoadPeakMiB)
	}
}

func TestReceiptsOneNode(t *testing.T) {
	code, runs, stderr := receipts(t, "--members", "5", "--messages", "2", "--senders", "2")
	if code != 0 || len(runs) != 1 {
		t.Fatalf("exit %d, %d runs\n%s", code, len(runs), stderr)
	}
	checkRun(t, runs[0], 5, 2)
	if runs[0].Store != "sqlite" || runs[0].Run != "seen" {
		t.Errorf("run %q on %q, want seen on sqlite", runs[0].Run, runs[0].Store)
	}
	// Progress goes out from the start (then at most once a second).
	if !strings.Contains(stderr, "[  0.0s] starting seen node 1/1") {
		t.Errorf("no progress line about the first step in\n%s", stderr)
	}
}

// TestReceiptsFloorBurst runs seen and then the floor, each with every
// member acking one message at once.
func TestReceiptsFloorBurst(t *testing.T) {
	code, runs, stderr := receipts(t, "--members", "4", "--messages", "2", "--burst", "--floor")
	if code != 0 || len(runs) != 2 {
		t.Fatalf("exit %d, %d runs\n%s", code, len(runs), stderr)
	}
	if runs[0].Run != "seen" || runs[1].Run != "floor" {
		t.Fatalf("runs %q, %q: want seen, then floor", runs[0].Run, runs[1].Run)
	}
	for _, j := range runs {
		checkRun(t, j, 4, 2)
		if j.ConvergeMaxMs <= 0 {
			t.Errorf("%s: no convergence time", j.Run)
		}
	}
}

func TestReceiptsHalfRate(t *testing.T) {
	code, runs, stderr := receipts(t, "--members", "4", "--messages", "3", "--half-rate")
	if code != 0 || len(runs) != 2 {
		t.Fatalf("exit %d, %d runs\n%s", code, len(runs), stderr)
	}
	checkRun(t, runs[0], 4, 3)
	checkRun(t, runs[1], 4, 3)
	if !strings.Contains(runs[1].Phase, "half") {
		t.Errorf("second phase %q, want the half-rate one", runs[1].Phase)
	}
}

// TestReceiptsCluster runs two seen nodes over PostgreSQL and NATS with
// the members in two load processes, when both answer here.
func TestReceiptsCluster(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:5432", "127.0.0.1:4222"} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Skipf("skipping: nothing answers at %s (PostgreSQL, NATS): %v", addr, err)
		}
		c.Close()
	}
	code, runs, stderr := receipts(t, "--members", "6", "--messages", "1", "--nodes", "2", "--load-procs", "2")
	if code != 0 || len(runs) != 1 {
		t.Fatalf("exit %d, %d runs\n%s", code, len(runs), stderr)
	}
	checkRun(t, runs[0], 6, 1)
	if runs[0].Store != "postgres" || runs[0].Nodes != 2 || runs[0].LoadProcs != 2 {
		t.Errorf("store %q, %d nodes, %d load procs: want postgres, 2, 2", runs[0].Store, runs[0].Nodes, runs[0].LoadProcs)
	}
}

func TestReceiptsRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--members", "0"},
		{"--members", "30000"}, // more sockets than one process may hold
		{"--members", "100000", "--load-procs", "8", "--nodes", "2"},
		{"--dial-timeout", "0s"},
		{"--half-rate", "--rate", "100"},
		{"--scale", "1,x"},
		{"--target", "http://127.0.0.1:1", "--admin-token", "x", "--floor"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), append([]string{"receipts"}, args...), &stdout, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("receipts %v: exit %d, stderr %q: want 2 and a reason", args, code, stderr.String())
		}
	}
}

func TestScanAll(t *testing.T) {
	got := scanAll([]byte(`{"id":"7","op":"receipt.ack","data":{"groupId":"1","items":[{"msgId":"11"},{"msgId":"12"}]}}`), `"msgId`)
	counts := scanAll([]byte(`{"id":"8","op":"receipt.counts","data":{"groupId":"1","msgIds":["21", "22"]}}`), `"msgId`)
	if fmt.Sprintf("%s %s", got, counts) != "[11 12] [21 22]" {
		t.Errorf("scanAll = %s, %s", got, counts)
	}
	if id := scanString([]byte(`{"id":"42","op":"auth"}`), `"id":"`); string(id) != "42" {
		t.Errorf("scanString = %q", id)
	}
}
