# seen: build, run and test.
#
#   make test   go vet + go test -race over every package; PostgreSQL and
#               NATS tests join in when those servers answer locally.
#   make build  the seen binary in bin/
#   make run    go run ./cmd/seen (SEEN_* variables and ARGS apply)

SHELL   := /bin/bash
GO      ?= go
BIN     ?= bin/seen
ARGS    ?=

# Test databases: exported only when something answers on the port, so
# that `make test` passes on a machine without them (those tests skip).
PG_URL   ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
NATS_URL ?= nats://127.0.0.1:4222

probe = $(shell timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$(1)' >/dev/null 2>&1 && echo yes)
ifeq ($(call probe,5432),yes)
export SEEN_TEST_POSTGRES_URL ?= $(PG_URL)
endif
ifeq ($(call probe,4222),yes)
export SEEN_TEST_NATS_URL ?= $(NATS_URL)
endif

.PHONY: all test test-go test-sdk test-demo need-npm vet build run clean

all: test build

test: test-go test-sdk test-demo

test-go: vet
	@echo "postgres tests: $${SEEN_TEST_POSTGRES_URL:-skipped (nothing on 127.0.0.1:5432)}"
	@echo "nats tests:     $${SEEN_TEST_NATS_URL:-skipped (nothing on 127.0.0.1:4222)}"
	$(GO) test -race ./...

vet:
	$(GO) vet ./...

NPM_CI = npm ci --no-audit --no-fund --loglevel=error

# The Web SDK: unit, golden-frame contract and stale-bundle tests, and
# integration tests against a real seen started with `go run`.
test-sdk: need-npm
	cd sdk && $(NPM_CI) && npm run typecheck && npm test

# The demo app: stale-build check, then the browser tests in headless
# Chromium (Debian's, at /usr/bin/chromium) against a real seen.
test-demo: need-npm
	cd demo && $(NPM_CI) && npm test && npm run test:e2e

need-npm:
	@command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed for the SDK and demo tests: .ci/run installs it"; exit 1; }

build:
	$(GO) build -o $(BIN) ./cmd/seen

run:
	$(GO) run ./cmd/seen $(ARGS)

clean:
	rm -rf bin
