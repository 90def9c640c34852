# Mizuchi — upload-only S3 gateway. `make` lists the targets.

GO          ?= go
BIN         ?= bin/mizuchi
FUZZTIME    ?= 30s
FUZZPKGS    ?= ./fuzz/ ./engine/
TEST_TIMEOUT ?= 25m
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
INSTALL_VERSITYGW = ./scripts/install-versitygw.sh
INSTALL_CLIENTS   = ./scripts/install-clients.sh
INSTALL_AUTHZ     = ./scripts/install-authz-servers.sh
# Runs the tests with the pinned versitygw, OPA and OpenFGA servers (built
# into the tools cache on first use, ~20 min cold; reused afterwards).
TEST_ENV = vgw="$$($(INSTALL_VERSITYGW) | tail -n1)" && \
	authz="$$($(INSTALL_AUTHZ))" && \
	export MIZUCHI_VERSITYGW="$$vgw" \
		MIZUCHI_OPA="$$(sed -n 1p <<<"$$authz")" \
		MIZUCHI_OPENFGA="$$(sed -n 2p <<<"$$authz")"

# Unit packages run again under the race detector in `make test` (the
# end-to-end packages start real processes and are covered by test-race, which
# also builds the gateway they start with -race and fails a test whose gateway
# reports a data race).
RACE_PKGS ?= ./httpparse/ ./sigv4/ ./pipes/ ./policy/... ./config/ ./upstream/ ./engine/

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.PHONY: help build run test test-race test-long bench fuzz lint check versitygw clients authz-servers

help: ## list targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/mizuchi
	$(GO) build -o $(BIN) ./cmd/mizuchi

versitygw: ## install the pinned versitygw (S3 backend for tests and dev mode)
	@$(INSTALL_VERSITYGW) >/dev/null

authz-servers: ## install the pinned OPA and OpenFGA servers (authorization tests; built with go install)
	@$(INSTALL_AUTHZ) >/dev/null

clients: ## install the pinned S3 clients of the client matrix (apt; awscli, boto3, s3cmd, rclone)
	$(INSTALL_CLIENTS)

run: build ## run mizuchi in dev mode with an embedded versitygw backend
	vgw="$$($(INSTALL_VERSITYGW) | tail -n1)" && ./$(BIN) -dev-versitygw "$$vgw"

test: ## go vet, all tests (end-to-end, authorization servers and client matrix included) against versitygw, unit packages again with -race
	$(TEST_ENV) && \
	$(INSTALL_CLIENTS) && \
	$(GO) vet ./... && \
	$(GO) test -shuffle=on -timeout $(TEST_TIMEOUT) ./... && \
	$(GO) test -race -shuffle=on -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

test-race: ## all tests with the race detector
	$(TEST_ENV) && \
	$(INSTALL_CLIENTS) && \
	$(GO) test -race -shuffle=on -timeout $(TEST_TIMEOUT) ./...

test-long: ## long-running tests (-run Long, MIZUCHI_LONG=1)
	vgw="$$($(INSTALL_VERSITYGW) | tail -n1)" && \
	MIZUCHI_VERSITYGW="$$vgw" MIZUCHI_LONG=1 $(GO) test -run Long -timeout 60m ./...

SOAK_TIME ?= 10m
.PHONY: soak
soak: ## mixed load on the real binary for SOAK_TIME (default 10m); fails unless fds, goroutines and RSS return near baseline (not in CI)
	vgw="$$($(INSTALL_VERSITYGW) | tail -n1)" && \
	MIZUCHI_VERSITYGW="$$vgw" $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 0 ./cmd/mizuchi/ -soak=$(SOAK_TIME)

bench: ## load benchmarks: Mizuchi vs direct, nginx, HAProxy, a splice relay (bench/run.sh)
	bash bench/run.sh

.PHONY: bench-tls
bench-tls: ## HTTPS benchmarks: Mizuchi with server.tls vs nginx and HAProxy terminating TLS (bench/run.sh)
	BENCH_TARGETS="mizuchi-tls nginx-tls haproxy-tls" bash bench/run.sh

.PHONY: image
IMAGE ?= mizuchi:dev
CONTAINER ?= docker
image: ## build the container image (Dockerfile: static binary, scratch base, non-root); needs a container engine
	$(CONTAINER) build -t $(IMAGE) .

.PHONY: bench-deps bench-scale
bench-deps: ## install the pinned Debian nginx and haproxy that `make bench` compares with (apt)
	./scripts/install-bench-deps.sh

bench-scale: ## Mizuchi's RSS with 10,000 idle connections and 256 concurrent 64 MiB uploads (bench/scale.sh)
	bash bench/scale.sh

.PHONY: bench-sched
bench-sched: ## syscalls, context switches and Go scheduler work per 1 KiB PUT, Mizuchi beside HAProxy (bench/sched.sh; needs perf)
	bash bench/sched.sh

fuzz: ## run every fuzz target in FUZZPKGS for FUZZTIME each, one at a time, and print the totals
	@n=0; execs=0; log="$$(mktemp)"; trap 'rm -f "$$log"' EXIT; \
	for p in $(FUZZPKGS); do \
		for t in $$($(GO) test -list 'Fuzz.*' $$p | grep '^Fuzz'); do \
			echo "== $$p $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$p 2>&1 | tee "$$log"; \
			e=$$(grep -o 'execs: [0-9]*' "$$log" | tail -1 | cut -d' ' -f2 || true); \
			n=$$((n + 1)); execs=$$((execs + $${e:-0})); \
		done; \
	done; \
	echo "fuzz: $$n targets, $(FUZZTIME) each, $$execs executions in total"

lint: ## gofmt, go vet and staticcheck (pinned)
	@out="$$(git ls-files '*.go' | xargs -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
.PHONY: vulncheck
vulncheck: ## govulncheck (pinned) against the Go vulnerability database; needs https://vuln.go.dev, so not in CI here
	$(GO) run $(GOVULNCHECK) ./...

check: ## gofmt, lint, test
	@out="$$(find . -name '*.go' -not -path './.git/*' -not -path './.dev/*' -not -path './.tools/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(MAKE) lint
	$(MAKE) test
