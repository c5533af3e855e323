package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// report is everything one `seen bench receipts` measured.
type report struct {
	cfg         *receiptsConfig
	runs        []*runResult
	ceilingRate float64
	ceilingErr  error
}

// phaseJSON is one column of the report: one phase of one run.
type phaseJSON struct {
	Run               string   `json:"run"`
	Phase             string   `json:"phase"`
	Members           int      `json:"members"`
	Messages          int      `json:"messages"`
	Nodes             int      `json:"nodes"`
	LoadProcs         int      `json:"loadProcs"`
	Store             string   `json:"store"`
	SetupS            float64  `json:"setupSeconds"`
	UsersS            float64  `json:"usersLoginsGroupSeconds"`
	Acks              int      `json:"acksCounted"`
	AckPhaseS         float64  `json:"ackPhaseSeconds"`
	AcksPerS          float64  `json:"acksPerSecond"`
	P50Ms             float64  `json:"latencyP50Ms"`
	P99Ms             float64  `json:"latencyP99Ms"`
	MaxMs             float64  `json:"latencyMaxMs"`
	Missing           int      `json:"acksNeverReflected"`
	Pushes            int      `json:"senderPushes"`
	PushesPerMsg      float64  `json:"senderPushesPerMessage"`
	MaxPushesPerS     int      `json:"maxPushesPerMessagePerSecond"`
	ConvergeMedMs     float64  `json:"convergenceMedianMs"`
	ConvergeMaxMs     float64  `json:"convergenceMaxMs"`
	ServerCPUS        float64  `json:"serverCpuSeconds,omitempty"`
	ServerCPUPerAckUs float64  `json:"serverCpuPerAckUs,omitempty"`
	PgCPUPerAckUs     float64  `json:"postgresCpuPerAckUs,omitempty"`
	LoadCPUPerAckUs   float64  `json:"loadCpuPerAckUs"`
	ServerPeakMiB     float64  `json:"serverPeakRssMiB,omitempty"`
	LoadPeakMiB       float64  `json:"loadPeakRssMiB"`
	LoadErrors        int64    `json:"loadErrors"`
	FirstLoadError    string   `json:"firstLoadError,omitempty"`
	PhaseError        string   `json:"phaseError,omitempty"`
	CountsOK          bool     `json:"countsReconciled"`
	CountErrors       []string `json:"countErrors,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

func (r *report) columns() []phaseJSON {
	c := r.cfg
	var cols []phaseJSON
	for _, run := range r.runs {
		for _, p := range run.phases {
			j := phaseJSON{Run: run.label, Phase: p.name, Members: c.members, Messages: c.messages, Nodes: run.spec.nodes,
				LoadProcs: c.loadProcs, Store: c.storeKind(), SetupS: run.setup.Seconds(), UsersS: run.usersSetup.Seconds(),
				Acks: p.acks, AckPhaseS: p.elapsed.Seconds(), AcksPerS: p.rate(),
				P50Ms: ms(quantile(p.latencies, .5)), P99Ms: ms(quantile(p.latencies, .99)), MaxMs: ms(quantile(p.latencies, 1)),
				Missing: p.missing, Pushes: p.pushes, PushesPerMsg: float64(p.pushes) / float64(max(1, len(p.msgs))),
				MaxPushesPerS: p.maxPushRate, ConvergeMedMs: ms(quantile(p.converge, .5)), ConvergeMaxMs: ms(quantile(p.converge, 1)),
				LoadCPUPerAckUs: perAck(p.loadCPU, p.acks), LoadPeakMiB: float64(p.loadPeak) / (1 << 20),
				LoadErrors: p.loadErrors, FirstLoadError: p.firstErr, PhaseError: p.waitErr, CountsOK: run.countsOK, CountErrors: run.countErrs}
			if run.spec.kind == "floor" {
				j.Store = "none"
				j.LoadProcs = c.loadProcs
			}
			if run.measured {
				j.ServerCPUS = p.serverCPU.Seconds()
				j.ServerCPUPerAckUs = perAck(p.serverCPU, p.acks)
				j.ServerPeakMiB = float64(p.serverPeak) / (1 << 20)
			}
			if j.Store == "postgres" {
				j.PgCPUPerAckUs = perAck(p.pgCPU, p.acks)
			}
			cols = append(cols, j)
		}
	}
	return cols
}

func (r *report) printJSON(w io.Writer) {
	out := map[string]any{"runs": r.columns()}
	if r.cfg.ceiling {
		if r.ceilingErr != nil {
			out["ceilingError"] = r.ceilingErr.Error()
		} else {
			out["ceilingAcksPerSecond"] = r.ceilingRate
			out["ceilingPerAckUs"] = 1e6 / r.ceilingRate
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func (r *report) print(w io.Writer) {
	c := r.cfg
	cols := r.columns()
	fmt.Fprintf(w, "seen bench receipts: %d members x %d messages, %d sender(s), ack batch %d, coalesce %v, load in %s\n",
		c.members, c.messages, c.senders, c.ackBatch, c.coalesce, loadWhere(c.loadProcs))
	fmt.Fprintf(w, "(the load generator, the servers and PostgreSQL share this machine's cores)\n\n")
	type row struct {
		name string
		val  func(j phaseJSON, k int) string
	}
	f0 := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	msv := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	pctCore := func(cpu, wall float64) string {
		if wall == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.0f%% of a core)", 100*cpu/wall)
	}
	measured := func(k int, s string) string {
		if cols[k].Run == "seen (--target)" {
			return "not measured (--target)"
		}
		return s
	}
	rows := []row{
		{"run", func(j phaseJSON, _ int) string { return j.Run }},
		{"phase", func(j phaseJSON, _ int) string { return j.Phase }},
		{"store", func(j phaseJSON, _ int) string { return j.Store }},
		{"setup (users, group, logins, conns)", func(j phaseJSON, _ int) string {
			return fmt.Sprintf("%.1f s (accounts %.1f s)", j.SetupS, j.UsersS)
		}},
		{"acks counted", func(j phaseJSON, _ int) string { return fmt.Sprint(j.Acks) }},
		{"ack phase", func(j phaseJSON, _ int) string { return fmt.Sprintf("%.3f s", j.AckPhaseS) }},
		{"acks/s end to end", func(j phaseJSON, _ int) string { return f0(j.AcksPerS) }},
		{"ack -> sender push p50", func(j phaseJSON, _ int) string { return msv(j.P50Ms) }},
		{"ack -> sender push p99", func(j phaseJSON, _ int) string { return msv(j.P99Ms) }},
		{"ack -> sender push max", func(j phaseJSON, _ int) string { return msv(j.MaxMs) }},
		{"acks never reflected", func(j phaseJSON, _ int) string { return fmt.Sprint(j.Missing) }},
		{"pushes to the sender(s)", func(j phaseJSON, _ int) string {
			return fmt.Sprintf("%d (%.1f per message)", j.Pushes, j.PushesPerMsg)
		}},
		{"most pushes, one message, 1 s", func(j phaseJSON, _ int) string { return fmt.Sprintf("%d /s", j.MaxPushesPerS) }},
		{"convergence median / max", func(j phaseJSON, _ int) string {
			if j.ConvergeMaxMs == 0 {
				return "- (no message reached its final count)"
			}
			return fmt.Sprintf("%.1f / %.1f ms", j.ConvergeMedMs, j.ConvergeMaxMs)
		}},
		{"server CPU, ack phase", func(j phaseJSON, k int) string {
			return measured(k, fmt.Sprintf("%.2f s%s", j.ServerCPUS, pctCore(j.ServerCPUS, j.AckPhaseS)))
		}},
		{"server CPU per ack", func(j phaseJSON, k int) string { return measured(k, f1(j.ServerCPUPerAckUs)+" us") }},
		{"PostgreSQL CPU per ack", func(j phaseJSON, _ int) string {
			if j.Store != "postgres" {
				return "-"
			}
			return f1(j.PgCPUPerAckUs) + " us"
		}},
		{"load CPU per ack", func(j phaseJSON, _ int) string { return f1(j.LoadCPUPerAckUs) + " us" }},
		{"server peak RSS, ack phase", func(j phaseJSON, k int) string { return measured(k, f1(j.ServerPeakMiB)+" MiB") }},
		{"load peak RSS, ack phase", func(j phaseJSON, _ int) string { return f1(j.LoadPeakMiB) + " MiB" }},
		{"load errors", func(j phaseJSON, _ int) string {
			if j.LoadErrors == 0 {
				return "0"
			}
			return fmt.Sprintf("%d (first: %.60s)", j.LoadErrors, j.FirstLoadError)
		}},
		{"final counts", func(j phaseJSON, _ int) string {
			if j.CountsOK {
				return fmt.Sprintf("exact: server = counted here = %d", j.Members)
			}
			return fmt.Sprintf("WRONG (%d message(s))", len(j.CountErrors))
		}},
	}
	cells := make([][]string, len(rows))
	widths := make([]int, len(cols))
	for i, rw := range rows {
		for k, j := range cols {
			v := rw.val(j, k)
			cells[i] = append(cells[i], v)
			widths[k] = max(widths[k], len(v))
		}
	}
	for i, rw := range rows {
		fmt.Fprintf(w, "  %-36s", rw.name)
		for k := range cols {
			fmt.Fprintf(w, "  %-*s", widths[k], cells[i][k])
		}
		fmt.Fprintln(w)
	}
	for _, j := range cols {
		if j.PhaseError != "" {
			fmt.Fprintf(w, "  phase failed (%s %s): %s\n", j.Run, j.Phase, j.PhaseError)
		}
	}
	for _, run := range r.runs {
		for _, e := range run.countErrs {
			fmt.Fprintf(w, "  count mismatch (%s): %s\n", run.label, e)
		}
	}
	fmt.Fprintln(w)

	perAckStore := 0.0
	if c.ceiling {
		if r.ceilingErr != nil {
			fmt.Fprintf(w, "  storage ceiling: failed: %v\n", r.ceilingErr)
		} else {
			perAckStore = 1e6 / r.ceilingRate
			fmt.Fprintf(w, "  storage ceiling (%s, 1000-ack batches): %.0f acks/s = %.1f us per ack; end to end / ceiling: %.1f%% (goal >= 25%% at 1,000 members)\n",
				c.storeKind(), r.ceilingRate, perAckStore, 100*cols[0].AcksPerS/r.ceilingRate)
		}
	}
	var seen, floor *phaseJSON
	for k := range cols {
		if cols[k].Run == "floor" && floor == nil {
			floor = &cols[k]
		} else if seen == nil {
			seen = &cols[k]
		}
	}
	if seen != nil && floor != nil {
		seenCPU := seen.ServerCPUPerAckUs + seen.PgCPUPerAckUs
		fmt.Fprintf(w, "  seen / floor: acks/s %.2fx, server CPU per ack %.1f / %.1f us = %.2fx\n",
			seen.AcksPerS/floor.AcksPerS, seenCPU, floor.ServerCPUPerAckUs, seenCPU/floor.ServerCPUPerAckUs)
		if c.ceiling && r.ceilingErr == nil {
			bound := 1.5 * (floor.ServerCPUPerAckUs + perAckStore)
			verdict := "met"
			if seenCPU > bound {
				verdict = "NOT met"
			}
			fmt.Fprintf(w, "  goal seen <= 1.5 x (floor + store per ack): %.1f us <= 1.5 x (%.1f + %.1f) = %.1f us: %s\n",
				seenCPU, floor.ServerCPUPerAckUs, perAckStore, bound, verdict)
		} else {
			fmt.Fprintf(w, "  (add --ceiling for the goal line seen <= 1.5 x (floor + store per ack))\n")
		}
	}
	if seen != nil && seen.ServerCPUPerAckUs > 0 {
		verdict := "met"
		if seen.ServerCPUPerAckUs > 40 {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "  goal server CPU per ack <= 40 us: %.1f us: %s\n", seen.ServerCPUPerAckUs, verdict)
	}
	if len(c.scale) > 0 && len(cols) > 1 {
		var parts []string
		for _, j := range cols {
			parts = append(parts, fmt.Sprintf("%d node(s) %.0f acks/s (%.2fx)", j.Nodes, j.AcksPerS, j.AcksPerS/cols[0].AcksPerS))
		}
		fmt.Fprintf(w, "  scale-out: %s\n", strings.Join(parts, ", "))
	}
	if c.halfRate && len(cols) >= 2 {
		half := cols[1]
		verdict := "met"
		if half.P99Ms > 150 {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "  goal p99 ack -> sender push at half the maximum rate (%.0f of %.0f acks/s) <= 150 ms: %.1f ms: %s\n",
			half.AcksPerS, cols[0].AcksPerS, half.P99Ms, verdict)
	}
	for _, j := range cols {
		if j.MaxPushesPerS > 10 {
			fmt.Fprintf(w, "  goal at most 10 pushes per second per message: NOT met in %s %s (%d)\n", j.Run, j.Phase, j.MaxPushesPerS)
		}
	}
}

func loadWhere(procs int) string {
	if procs == 0 {
		return "this process"
	}
	return fmt.Sprintf("%d child processes (127.0.0.2..)", procs)
}
