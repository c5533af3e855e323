package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/httpapi"
	"seen/internal/webhook"
	"seen/internal/ws"
)

// metricsHandler serves the registry in the Prometheus text format;
// with Config.MetricsToken, only to requests bearing it.
func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
	if s.cfg.MetricsToken == "" {
		return h
	}
	authorized := httpapi.BearerCheck(s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="seen metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <metrics token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsOff answers /metrics on the main address when it is not served
// there.
func metricsOff(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "metrics are not served here: see --metrics-addr and --metrics-token (docs/operations.md)", http.StatusNotFound)
}

// startMetrics serves /metrics alone on its own listener (--metrics-addr),
// apart from the public one.
func startMetrics(addr string, h http.Handler, log *slog.Logger) (*http.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, ln.Addr(), nil
}

// metrics implements chat.Metrics and ws.Metrics with Prometheus, on a
// registry of its own (never the global one), so that several servers
// run in one process. docs/operations.md lists them.
type metrics struct {
	reg *prometheus.Registry

	connections   prometheus.Gauge
	closes        *prometheus.CounterVec
	framesIn      *prometheus.CounterVec
	framesOut     *prometheus.CounterVec
	slowConsumers prometheus.Counter
	errorReplies  *prometheus.CounterVec
	messagesSent  *prometheus.CounterVec
	acksCounted   prometheus.Counter
	receiptPushes prometheus.Counter
	storeLatency  *prometheus.HistogramVec
	batchSize     *prometheus.HistogramVec
}

var (
	_ chat.Metrics = (*metrics)(nil)
	_ ws.Metrics   = (*metrics)(nil)
)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seen_connections", Help: "Live WebSocket connections.",
		}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seen_connections_closed_total", Help: "Ended WebSocket sessions by close code.",
		}, []string{"code"}),
		framesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seen_frames_in_total", Help: "WebSocket request frames received, by op.",
		}, []string{"op"}),
		framesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seen_frames_out_total", Help: "WebSocket frames sent: replies by op, pushes as push.<name>.",
		}, []string{"op"}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seen_slow_consumers_total", Help: "Sessions closed because their send queue overflowed (4009).",
		}),
		errorReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seen_error_replies_total", Help: "WebSocket error replies by error code.",
		}, []string{"code"}),
		messagesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seen_messages_sent_total", Help: "Messages stored, by chat type.",
		}, []string{"chat_type"}),
		acksCounted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seen_acks_counted_total", Help: "Group read receipts counted (first reads only).",
		}),
		receiptPushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seen_receipt_pushes_total", Help: "Read-count pushes published to senders, after coalescing.",
		}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seen_store_latency_seconds", Help: "Store transaction latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seen_batch_size", Help: "Requests committed per group-commit transaction, by batcher (send, ack).",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}, []string{"op"}),
	}
	m.reg.MustRegister(
		m.connections, m.closes, m.framesIn, m.framesOut, m.slowConsumers, m.errorReplies,
		m.messagesSent, m.acksCounted, m.receiptPushes, m.storeLatency, m.batchSize,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Label values that exist from the start, so that dashboards and
	// tests see the series before the first event.
	for _, ct := range []chat.ChatType{chat.SingleChat, chat.GroupChat} {
		m.messagesSent.WithLabelValues(string(ct))
	}
	return m
}

// node exports this node's name and id slot as seen_node_info.
func (m *metrics) node(name string, slot int) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "seen_node_info", Help: "This node: its name and id-generator slot (always 1).",
	}, []string{"node_id", "slot"})
	g.WithLabelValues(name, strconv.Itoa(slot)).Set(1)
	m.reg.MustRegister(g)
}

// cluster exports what this node knows of the cluster through NATS.
func (m *metrics) cluster(nb *bus.NATS, maxAge time.Duration) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "seen_nats_connected", Help: "1 while this node's NATS connection is up.",
		}, func() float64 {
			if nb.Connected() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seen_bus_dropped_total", Help: "Live events that could not be published or decoded (they cost latency, not data).",
		}, func() float64 { return float64(nb.Dropped()) }),
		&clusterCollector{nb: nb, maxAge: maxAge},
	)
}

// webhooks exports the webhook deliverer's counts.
func (m *metrics) webhooks(d *webhook.Deliverer) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seen_webhook_delivered_total", Help: "Webhook events this node delivered (a 2xx answer, recorded).",
		}, func() float64 { return float64(d.Stats().Delivered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seen_webhook_retried_total", Help: "Webhook events whose attempt by this node failed and were rescheduled.",
		}, func() float64 { return float64(d.Stats().Retried) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seen_webhook_failed_total", Help: "Webhook events this node marked failed (they wait for an admin retry).",
		}, func() float64 { return float64(d.Stats().Failed) }),
	)
}

// clusterCollector reports every node heard from recently with its
// connection count: seen_cluster_node_connections{node_id}.
type clusterCollector struct {
	nb     *bus.NATS
	maxAge time.Duration
}

var clusterDesc = prometheus.NewDesc("seen_cluster_node_connections",
	"WebSocket connections of each node present in the cluster, as its last heartbeat told.", []string{"node_id"}, nil)

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) { ch <- clusterDesc }

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	// By node name; processes sharing a name (a misconfiguration, or a
	// restart within the heartbeat window) are summed.
	byName := map[string]int{}
	for _, p := range c.nb.Peers(c.maxAge) {
		byName[p.Name] += p.Sessions
	}
	for name, n := range byName {
		ch <- prometheus.MustNewConstMetric(clusterDesc, prometheus.GaugeValue, float64(n), name)
	}
}

// chat.Metrics.

func (m *metrics) StoreLatency(op string, d time.Duration) {
	m.storeLatency.WithLabelValues(op).Observe(d.Seconds())
}
func (m *metrics) BatchSize(op string, n int)   { m.batchSize.WithLabelValues(op).Observe(float64(n)) }
func (m *metrics) MessageSent(ct chat.ChatType) { m.messagesSent.WithLabelValues(string(ct)).Inc() }
func (m *metrics) AcksCounted(n int)            { m.acksCounted.Add(float64(n)) }
func (m *metrics) PushesCoalesced(n int)        { m.receiptPushes.Add(float64(n)) }

// ws.Metrics.

func (m *metrics) ConnOpened() { m.connections.Inc() }
func (m *metrics) ConnClosed(code int) {
	m.connections.Dec()
	m.closes.WithLabelValues(strconv.Itoa(code)).Inc()
}
func (m *metrics) FrameIn(op string)      { m.framesIn.WithLabelValues(op).Inc() }
func (m *metrics) FrameOut(kind string)   { m.framesOut.WithLabelValues(kind).Inc() }
func (m *metrics) SlowConsumer()          { m.slowConsumers.Inc() }
func (m *metrics) ErrorReply(code string) { m.errorReplies.WithLabelValues(code).Inc() }
