// Package server wires a seen node: the store (SQLite or PostgreSQL), the
// node's id slot, the bus, the service, the WebSocket endpoint, the REST
// API, metrics and health, behind one HTTP server. A Server is a value:
// no globals, so one process (a test) can run several.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"seen/demo"

	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/emrest"
	"seen/internal/httpapi"
	"seen/internal/msync"
	"seen/internal/sqlstore"
	"seen/internal/webhook"
	"seen/internal/ws"
)

// The states of a server, as /healthz reports them.
const (
	stateStarting int32 = iota
	stateServing
	stateStopping
)

// Server is one seen node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *sqlstore.Store
	svc     *chat.Service
	ws      *ws.Server
	msync   *msync.Server // the vendor SDK's WebSocket, beside ws on the same hub
	metrics *metrics
	http    *http.Server
	ln      net.Listener
	node    *nodeLease
	nats    *bus.NATS // nil on a single node
	debug   *http.Server
	metSrv  *http.Server       // the --metrics-addr listener, or nil
	hooks   *webhook.Deliverer // nil without webhook targets
	metAddr net.Addr

	state     atomic.Int32
	running   atomic.Bool
	stop      chan struct{} // closed by Close to end Run
	stopOnce  sync.Once
	serving   chan struct{} // closed when Run has begun serving
	runDone   chan struct{} // closed when Run returns
	closeOnce sync.Once
	closeErr  error
}

// presenceInterval is how often a cluster node announces itself on NATS.
const presenceInterval = 5 * time.Second

// resync runs when the NATS connection comes back, or when another node
// disappears (with read-count pushes it was still holding back): the
// node's sessions may have missed events, so they are told to catch up
// from the store.
func (s *Server) resync(reason string) {
	if s.ws != nil {
		s.ws.Resync(reason)
	}
}

// startupTimeout bounds opening the store and claiming the node slot.
const startupTimeout = 30 * time.Second

// New builds a node from cfg and binds its listener; Run serves. On error
// everything opened so far is closed again.
func New(cfg Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics(), stop: make(chan struct{}), serving: make(chan struct{}), runDone: make(chan struct{})}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	dsn := cfg.Postgres
	if dsn == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		dsn = "sqlite:" + filepath.Join(cfg.DataDir, "seen.db")
	}
	s.store, err = sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	undo = append(undo, func() { s.store.Close() })

	name := cfg.NodeID
	if name == "" {
		name = defaultNodeID()
	}
	// The lease and the bus name the process, not the configured name:
	// two processes given the same --node-id (a misconfiguration, or a
	// restart while the old lease runs) must never share an id slot, nor
	// take each other's events for their own echoes.
	instance := name + "/" + randomHex(4)
	s.node, err = claimNode(ctx, s.store, instance, cfg.NodeLease, log, func() {
		// The lease lapsed and the slot went to another process: ids
		// could collide. Stop; the supervisor restarts the node.
		go s.Close()
	})
	if err != nil {
		return nil, err
	}
	undo = append(undo, s.node.stop)

	pw, err := auth.NewBcrypt(cfg.PasswordCost)
	if err != nil {
		return nil, err
	}
	var b chat.Bus = bus.NewLocal()
	if cfg.NATS != "" {
		s.nats, err = bus.DialNATS(cfg.NATS, bus.NATSOptions{
			Node: instance, Name: name, OnReconnect: func() { s.resync("bus reconnected") }, OnPeerLost: func(string) { s.resync("peer lost") },
		}, log)
		if err != nil {
			return nil, err
		}
		undo = append(undo, func() { s.nats.Close() })
		b = s.nats
	}
	var store chat.Store = s.store
	if len(cfg.Chat.WebhookTargets) > 0 {
		// The outbox is delivered by every node; a commit that wrote
		// outbox rows wakes this node's deliverer.
		if s.hooks, err = webhook.New(cfg.webhookConfig(instance, name), s.store, log); err != nil {
			return nil, err
		}
		store = webhook.WakeOnCommit(s.store, s.hooks)
	}
	s.svc, err = chat.NewService(cfg.Chat, chat.Deps{
		Store: store, Bus: b, Passwords: pw, Metrics: s.metrics, NodeSlot: s.node.slot,
	})
	if err != nil {
		return nil, err
	}
	undo = append(undo, s.svc.Close)
	s.ws = ws.New(s.svc, b, cfg.wsConfig(), log, s.metrics)
	undo = append(undo, func() { s.ws.Close(context.Background()) })
	// The vendor SDK's msync WebSocket shares ws's hub (one bus
	// subscription per topic per node, one request budget per user) and
	// its admission (the connection caps count both endpoints, by the
	// same client address).
	s.msync, err = msync.New(msync.Config{
		AppKey: cfg.AppKey, AllowedOrigins: cfg.AllowedOrigins, Admission: s.ws.Admission(),
		NodeSlot: s.node.slot, // push ids unique across the cluster, as message ids are
	}, s.svc, s.ws.Hub(), log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = s.msync.Close(context.Background()) })
	s.metrics.node(name, s.node.slot)
	if s.hooks != nil {
		s.metrics.webhooks(s.hooks)
	}
	if s.nats != nil {
		if err := s.nats.StartPresence(presenceInterval, s.ws.Sessions); err != nil {
			return nil, err
		}
		s.metrics.cluster(s.nats, 3*presenceInterval)
	}
	proxies, _ := httpapi.ParseTrustedProxies(cfg.TrustedProxies) // checked by Validate
	api := httpapi.New(s.svc, httpapi.Config{
		AdminToken: cfg.AdminToken, AllowedOrigins: cfg.AllowedOrigins, Limits: cfg.REST, TrustedProxies: proxies,
	}, log)

	vendor, err := emrest.New(s.svc, api, emrest.Config{
		AppKey:      cfg.AppKey,
		AllowOrigin: func(origin, host string) bool { return httpapi.OriginAllowed(origin, host, cfg.AllowedOrigins) },
		// Message roaming carries each message as the meta the msync
		// endpoint sends for it.
		EncodeMessage: func(m *chat.Message) ([]byte, error) { return msync.MessageMeta(cfg.AppKey, m) },
	}, log)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle(vendor.Prefix(), vendor)
	mux.Handle("/ws", s.ws)
	mux.Handle("/websocket", s.msync)
	mux.HandleFunc("GET /healthz", s.healthz)
	metricsHandler := s.metricsHandler()
	if cfg.MetricsAddr == "" && cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", metricsHandler)
	} else {
		mux.HandleFunc("GET /metrics", metricsOff)
	}
	app, err := fs.Sub(demo.Assets, "dist")
	if err != nil {
		return nil, fmt.Errorf("demo assets: %w", err)
	}
	if err := mountWeb(mux, app); err != nil {
		return nil, err
	}

	if cfg.DebugAddr != "" {
		if s.debug, err = startDebug(cfg.DebugAddr, log); err != nil {
			return nil, err
		}
		undo = append(undo, func() { s.debug.Close() })
	}
	if cfg.MetricsAddr != "" {
		if s.metSrv, s.metAddr, err = startMetrics(cfg.MetricsAddr, metricsHandler, log); err != nil {
			return nil, err
		}
		undo = append(undo, func() { s.metSrv.Close() })
	}
	s.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.http = &http.Server{
		Handler:   securityHeaders(vendor.OtherApps(mux)),
		TLSConfig: tlsConfig,
		// The timeouts end at a WebSocket upgrade: net/http clears the
		// connection's deadlines when the handler hijacks it.
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	log.Info("node ready", "node_id", name, "slot", s.node.slot, "store", storeKind(cfg), "addr", s.Addr().String())
	return s, nil
}

func storeKind(cfg Config) string {
	if cfg.Postgres != "" {
		return "postgres"
	}
	return "sqlite:" + filepath.Join(cfg.DataDir, "seen.db")
}

// defaultNodeID is the host name plus a random suffix: a restarted
// process takes a fresh slot rather than one its predecessor may still
// be using.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "seen"
	}
	return host + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Addr returns the bound listen address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the base URL of the server, named by the configured host
// (localhost when it listens on every interface).
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Serving returns a channel closed once Run serves: from then on /healthz
// answers 200 until shutdown, and connections to Addr are answered (the
// listener is bound by New, so none made earlier is refused either).
func (s *Server) Serving() <-chan struct{} { return s.serving }

// Run serves until ctx ends or Close is called, then shuts down
// gracefully (see Close). It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("server: Run called twice")
	}
	defer close(s.runDone)
	serveErr := make(chan error, 1)
	go func() {
		var err error
		if s.http.TLSConfig != nil {
			err = s.http.ServeTLS(s.ln, "", "")
		} else {
			err = s.http.Serve(s.ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		serveErr <- err
	}()
	if s.hooks != nil {
		s.hooks.Start()
	}
	s.state.CompareAndSwap(stateStarting, stateServing)
	close(s.serving)
	s.log.Info("serving", "url", s.URL())

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "reason", context.Cause(ctx))
	case <-s.stop:
		s.log.Info("shutting down", "reason", "close")
	case err = <-serveErr:
		s.log.Error("serve failed", "err", err)
		serveErr <- err
	}
	err = errors.Join(err, s.shutdown())
	if serr := <-serveErr; serr != nil && err == nil {
		err = serr
	}
	return err
}

// Close shuts the server down gracefully: it stops accepting connections,
// closes the WebSocket sessions with 1001, drains in-flight HTTP requests,
// commits queued writes and flushes pending pushes (chat.Service.Close),
// and closes the store. If Run is serving, Close ends it and waits for it.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.running.Load() {
		<-s.runDone
	}
	return s.shutdown()
}

// shutdown runs the shutdown sequence once and returns its outcome.
func (s *Server) shutdown() error {
	s.closeOnce.Do(func() {
		s.state.Store(stateStopping)
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		var errs []error
		// Stop accepting (Shutdown closes the listener at once) while the
		// sessions close; then wait for in-flight requests.
		drained := make(chan error, 1)
		go func() { drained <- s.http.Shutdown(ctx) }()
		msyncClosed := make(chan error, 1)
		go func() { msyncClosed <- s.msync.Close(ctx) }()
		if err := s.ws.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close sessions: %w", err))
		}
		if err := <-msyncClosed; err != nil {
			errs = append(errs, fmt.Errorf("close msync sessions: %w", err))
		}
		if err := <-drained; err != nil {
			s.http.Close()
			errs = append(errs, fmt.Errorf("drain http: %w", err))
		}
		s.ln.Close() // in case Run never served
		if s.debug != nil {
			s.debug.Close()
		}
		if s.metSrv != nil {
			s.metSrv.Close()
		}
		s.node.stop()
		s.svc.Close()
		// After the service, whose last commits may write outbox rows
		// (delivered by another node, or after the restart); before the
		// store. Requests in flight finish, rows not sent are released.
		if s.hooks != nil {
			if err := s.hooks.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		// After the service: its last pushes go out before the bus closes.
		if s.nats != nil {
			if err := s.nats.Close(); err != nil {
				s.log.Debug("close nats", "err", err)
			}
		}
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("stopped")
	})
	return s.closeErr
}

// healthz answers 200 while serving, 503 before and while shutting down.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch s.state.Load() {
	case stateServing:
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, `{"status":"ok"}`)
	case stateStopping:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"shutting down"}`)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"starting"}`)
	}
}
