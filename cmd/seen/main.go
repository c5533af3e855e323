// Command seen is the seen chat server. `seen` (or `seen serve`) starts a
// node; every flag has a SEEN_* environment twin (see `seen help` and
// docs/operations.md). Other subcommands, such as `seen bench`, are
// dispatched from run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	seenbench "seen/internal/bench"
	"seen/internal/server"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the server failed
	exitUsage = 2 // bad command line or environment
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd, rest := "serve", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(rest, getenv, stdout, stderr)
	case "bench":
		return bench(rest, stdout, stderr)
	case "help":
		_, err := parseServe([]string{"-help"}, func(string) string { return "" }, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	fmt.Fprintf(stderr, "seen: unknown command %q (run seen --help)\n", cmd)
	return exitUsage
}

// serve runs a node until SIGINT or SIGTERM, then shuts it down
// gracefully.
func serve(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseServe(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "seen: %v (run seen --help)\n", firstLine(err))
		return exitUsage
	}
	opts := &slog.HandlerOptions{Level: o.logLevel}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	log := slog.New(h)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := server.New(o.cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitError
	}
	fmt.Fprintf(stdout, "seen is serving at %s\n", s.URL())
	if err := s.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return exitError
	}
	return exitOK
}

// firstLine is err's message up to its first newline: a usage error is
// one line.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// bench runs a load generator of internal/bench until it ends or the
// process is interrupted.
func bench(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return seenbench.Main(ctx, args, stdout, stderr)
}
