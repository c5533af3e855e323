# seen: build, run and test.
#
#   make test   lint, then go test -race over every package (PostgreSQL and
#               NATS tests join in when those servers answer locally), then
#               every fuzz target for a few seconds (test-fuzz), then the
#               Web SDK's and the demo's tests, then the vendor SDKs against
#               seen (test-compat)
#   make lint   gofmt, go vet, staticcheck and deadcode -test (the last two at the
#               versions go.mod pins, run with `go tool`: nothing to install)
#   make fuzz   every fuzz target for FUZZTIME (default 60s) each
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

.PHONY: all test test-go test-fuzz fuzz test-sdk test-demo test-compat need-npm need-chromium lint vet build run clean

all: test build

test: test-go test-fuzz test-sdk test-demo test-compat

test-go: lint
	@echo "postgres tests: $${SEEN_TEST_POSTGRES_URL:-skipped (nothing on 127.0.0.1:5432)}"
	@echo "nats tests:     $${SEEN_TEST_NATS_URL:-skipped (nothing on 127.0.0.1:4222)}"
	$(GO) test -race ./...

# Static checks. staticcheck and deadcode are tool dependencies of the
# module (the tool lines of go.mod), so a plain clone runs the versions
# go.sum verifies. deadcode -test lists the functions no program or test
# reaches; it exits 0 either way, so any output fails the target.
lint: vet
	@unformatted=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)) && [ -z "$$unformatted" ] || { echo "$$unformatted"; echo "gofmt: these files are not formatted (run gofmt -w)"; exit 1; }
	$(GO) tool staticcheck ./...
	@dead=$$($(GO) tool deadcode -test ./...) && [ -z "$$dead" ] || { echo "$$dead"; echo "deadcode: unreachable functions (above): remove them or test them"; exit 1; }

vet:
	$(GO) vet ./...

# Fuzz targets: every func FuzzX in a _test.go file under FUZZ_DIRS (go
# runs one fuzz target per invocation). Without -fuzz, test-go already
# runs their seed corpora as ordinary tests under -race; test-fuzz then
# mutates each for FUZZ_QUICK, `make fuzz` for FUZZTIME. A failing input
# is written to the package's testdata/fuzz/FuzzX/: commit it with the fix,
# and it stays a regression seed.
#
# The budgets are counts of executions, not durations: go1.26's fuzz
# coordinator can report its own -fuzztime deadline as a failure ("context
# deadline exceeded", no input written) when a worker is starved at the
# boundary (golang/go#75804, fixed in go1.27). A count has no deadline.
FUZZ_DIRS     ?= ./internal ./client ./cmd
FUZZ_QUICK    ?= 2000x
FUZZTIME      ?= 100000x
FUZZ_PARALLEL ?= 1

define fuzz-all
set -eo pipefail; \
targets=$$(grep -rHo --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*' $(FUZZ_DIRS) | sed -E 's#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)$$#\1 \2#' | sort); \
[ -n "$$targets" ] || { echo "no fuzz targets in $(FUZZ_DIRS)"; exit 1; }; \
while read -r pkg name; do \
	echo "fuzz $$pkg $$name for $(1)"; \
	$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(1) -parallel $(FUZZ_PARALLEL) $$pkg; \
done <<< "$$targets"
endef

test-fuzz:
	@$(call fuzz-all,$(FUZZ_QUICK))

fuzz:
	@$(call fuzz-all,$(FUZZTIME))

NPM_CI = npm ci --no-audit --no-fund --loglevel=error

# The Web SDK: unit, golden-frame contract and stale-bundle tests, and
# integration tests against a real seen started with `go run`.
test-sdk: need-npm
	cd sdk && $(NPM_CI) && npm run typecheck && npm test

# The demo app: stale-build check, then the browser tests in headless
# Chromium (Debian's, at /usr/bin/chromium) against a real seen.
test-demo: need-npm need-chromium
	cd demo && $(NPM_CI) && npm test && npm run test:e2e

# The vendor's own Web SDKs (easemob-websdk, agora-chat), unmodified, against
# seen: their embedded protobuf schema against ours, then the seed flow and
# the core flows in headless Chromium. The packages are test dependencies
# only, installed here from npm into compat/node_modules.
test-compat: need-npm need-chromium
	cd compat && $(NPM_CI) && npm test

need-npm:
	@command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed for the SDK and demo tests: .ci/run installs it"; exit 1; }

# The browser tests drive Debian's Chromium (never a downloaded browser):
# installed here when it is missing, so a plain clone needs nothing else.
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo)
need-chromium:
	@[ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { \
		echo "==> installing chromium (Debian's) for the browser tests"; \
		$(AS_ROOT) apt-get update -qq && \
		$(AS_ROOT) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

build:
	$(GO) build -o $(BIN) ./cmd/seen

run:
	$(GO) run ./cmd/seen $(ARGS)

clean:
	rm -rf bin
