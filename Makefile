# Every target installs what it needs (pinned) under .cache/; nothing is
# installed by hand. `make` alone lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO ?= go
PORT ?= 8080
DYNAMODB_PORT ?= 8000
# Executions per fuzz test (a count: see .ci/run), or a duration such as 10m.
FUZZTIME ?= 200000x

# staticcheck 2026.2.2: the 0.8 line is the first built for Go 1.26.
STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION := v1.7.12
# The CDK CLI released with aws-cdk-lib 2.224.0 (cloud assembly schema 48).
CDK_CLI_VERSION := 2.1031.2
# Redocly CLI lints the OpenAPI document (pkg/openapi/openapi.yaml).
REDOCLY_VERSION := 2.77.0
# axe-core runs in the console's browser tests (pkg/console), never in the console.
AXE_CORE_VERSION := 4.14.1

CACHE := $(CURDIR)/.cache
TOOLS := $(CACHE)/bin
# The version is in the file name, so changing the pin reinstalls.
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
ACTIONLINT := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)
CDK := npx --yes aws-cdk@$(CDK_CLI_VERSION)
REDOCLY := npx --yes @redocly/cli@$(REDOCLY_VERSION)
AXE_CORE := $(CACHE)/npm/axe-core-$(AXE_CORE_VERSION)/node_modules/axe-core/axe.min.js

FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
# Where and for which CPU build-% puts each bootstrap. The deployment's is
# linux/arm64 in bin/; the emulator tests (pkg/testkit/lambdarie) build the
# same way for the host, into a directory of their own.
LAMBDA_GOARCH ?= arm64
BIN_DIR ?= bin

.PHONY: help run test lint build bench synth fuzz tools clean redrive browser

help: ## List the targets
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-8s %s\n", $$1, $$2}'
	@echo "Variables: PORT=$(PORT) DYNAMODB_PORT=$(DYNAMODB_PORT) FUZZTIME=$(FUZZTIME)"

# Built, then run, rather than `go run`: go run answers Ctrl-C with exit
# status 1 whatever the program does, and make would report the clean stop
# as an error.
run: ## Run the whole service locally (API on PORT, DynamoDB Local on DYNAMODB_PORT)
	$(GO) build -o $(CACHE)/localstack/localstack ./scripts/localstack
	PORT=$(PORT) DYNAMODB_PORT=$(DYNAMODB_PORT) exec $(CACHE)/localstack/localstack

test: $(AXE_CORE) browser ## Run every test with the race detector; storage tests start their own DynamoDB Local
	AXE_CORE_JS=$(AXE_CORE) $(GO) test -race -count=1 -timeout 40m ./...

# The console's browser tests need Chromium: Debian's package, installed
# here when missing and apt-get can (as root, as CI runs). Elsewhere the
# tests find a local Chrome or fail saying how to install one.
browser: ## Install Debian's chromium for the console's browser tests, if missing
	@if [ -n "$${CHROME_PATH:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		command -v google-chrome >/dev/null || command -v google-chrome-stable >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the console's browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "browser: no Chromium or Chrome found, and apt-get cannot install one here (needs root):" \
			"the console's browser tests will fail. Install one (Debian: sudo apt-get install chromium) or set CHROME_PATH." >&2; \
	fi

$(AXE_CORE):
	npm install --silent --no-save --no-package-lock --no-audit --no-fund \
		--prefix $(CACHE)/npm/axe-core-$(AXE_CORE_VERSION) axe-core@$(AXE_CORE_VERSION)

lint: $(STATICCHECK) $(ACTIONLINT) ## gofmt, go vet, staticcheck, actionlint and Redocly on the OpenAPI document (all run, then any failure fails)
	@status=0; \
	unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; status=1; fi; \
	echo "go vet ./..."; $(GO) vet ./... || status=1; \
	echo "staticcheck ./..."; $(STATICCHECK) ./... || status=1; \
	echo "actionlint"; $(ACTIONLINT) || status=1; \
	echo "redocly lint pkg/openapi/openapi.yaml"; \
		REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --format stylish pkg/openapi/openapi.yaml || status=1; \
	exit $$status

build: $(addprefix build-,$(FUNCTIONS)) ## Build every functions/<name> into bin/<name>/bootstrap (linux/arm64)

build-%:
	GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath \
		-ldflags "-s -w" -o $(BIN_DIR)/$*/bootstrap ./functions/$*

bench: ## Benchmarks and load runs, printing their figures and target ratios
	@# Every step runs even when one misses its target, so one run prints
	@# every figure; any miss fails the target at the end.
	@# -p 1: one package's benchmarks at a time, so none measures another's load.
	@status=0; \
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./... || status=1; \
	$(GO) run ./scripts/authbench || status=1; \
	$(GO) run ./scripts/usagebench || status=1; \
	$(GO) run ./scripts/leakbench || status=1; \
	$(GO) run ./scripts/gwbench || status=1; \
	$(GO) run ./scripts/limitbench || status=1; \
	$(GO) run ./scripts/planbench || status=1; \
	$(GO) run ./scripts/readbench || status=1; \
	$(GO) run ./scripts/lambdabench || status=1; \
	$(MAKE) --no-print-directory build || status=1; \
	echo "function binaries (linux/arm64, -s -w, lambda.norpc; target <= 15 MB):"; \
	for f in bin/*/bootstrap; do stat -c '%s %n' "$$f"; done | \
		awk '{ mb = $$1 / 1048576; over = over || mb > 15; printf "  %-28s %5.1f MB %s\n", $$2, mb, (mb <= 15 ? "ok" : "OVER") } END { exit over }' || status=1; \
	if [ $$status != 0 ]; then echo "bench: a target was missed (see above)" >&2; fi; \
	exit $$status

synth: build ## Synthesize the CDK app into cdk.out (never contacts AWS)
	CDK_DISABLE_CLI_TELEMETRY=true $(CDK) synth --quiet --no-notices

redrive: ## Replay usage deliveries the recorder could not write (AWS, your credentials; STACK=TokenService-<stage>)
	scripts/redrive.sh

fuzz: ## Run each fuzz test for FUZZTIME (executions, or a duration)
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

tools: $(STATICCHECK) $(ACTIONLINT) ## Install the pinned tools
	$(CDK) --version
	$(REDOCLY) --version

$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $@

$(ACTIONLINT):
	GOBIN=$(TOOLS) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(TOOLS)/actionlint $@

clean: ## Remove build output (keeps the tool cache in .cache)
	rm -rf bin cdk.out
