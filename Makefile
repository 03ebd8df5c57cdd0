# tenantry: one target per line, each with a ## help comment (`make help`).
SHELL := /usr/bin/env bash
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false
GOLANGCI_LINT_VERSION ?= v2.15.0
BIN := bin
LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
UNIT_PKGS = $$(go list ./... | grep -v /test/)
BENCH_TENANTS ?= 100,1000
BENCH_RUNS ?= 3
BENCH_PEER_LIMIT ?= 10m

.DEFAULT_GOAL := help
.PHONY: help build test test-unit test-integration lint bench peers dev components images clean fmt

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'
build: ## Build the tenantry binary into bin/.
	go build -o $(BIN)/tenantry ./cmd/tenantry
test: components ## Run every tier: unit tests, then integration tests against real components.
	go test -count=1 -timeout=30m ./...
test-unit: ## Run the unit tier only (no binaries needed).
	go test -count=1 $(UNIT_PKGS)
test-integration: components ## Run the integration tier only (real kube-apiserver, etcd, kine, Gatekeeper).
	go test -count=1 -timeout=30m ./test/...
lint: $(LINT) ## Run golangci-lint (pinned, installed into bin/).
	$(LINT) run ./...
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')
bench: components peers ## Run the benchmarks against real components and peers; prints a table, writes bench/results/latest.json and chart.svg.
	go run ./cmd/tenantry-bench -tenants=$(BENCH_TENANTS) -runs=$(BENCH_RUNS) -peer-limit=$(BENCH_PEER_LIMIT) -out=bench/results
peers: ## Build the benchmark's peers (Flux kustomize-controller); a failed build is reported in the bench table, not fatal.
	bash hack/components.sh flux || echo "peers: Flux could not be built; the bench table will say so" >&2
dev: components build ## Start a local host control plane and reconcile tenants-example/ (Ctrl-C stops it).
	$(BIN)/tenantry dev --tenants=tenants-example
components: ## Build the pinned kube-apiserver, kube-controller-manager, etcd, kine and Gatekeeper (cached by version).
	bash hack/components.sh
images: ## Build the virtual cluster images as OCI tarballs (not yet implemented).
	@echo "images: the virtual cluster image is not built yet (see the virtual clusters issue)" >&2; exit 1
clean: ## Remove build outputs (the component cache outside the tree is kept).
	rm -rf $(BIN) bench/results/tmp
$(LINT): ## (file) the pinned linter, named by version so a bump reinstalls it.
	GOBIN=$(CURDIR)/$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) && mv $(BIN)/golangci-lint $@
