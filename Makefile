# tenantry: one target per line, each with a ## help comment (`make help`).
SHELL := /usr/bin/env bash
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false
GOLANGCI_LINT_VERSION ?= v2.15.0
CODE_GENERATOR_VERSION ?= v0.37.2
BIN := bin
LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
UNIT_PKGS = $$(go list ./... | grep -v /test/)
BENCH_TENANTS ?= 100,1000,5000
BENCH_RUNS ?= 3
BENCH_PEER_LIMIT ?= 10m
BENCH_LARGE_RUNS ?= 1
BENCH_NODE ?= true
BENCH_SYNCER ?= true
BENCH_NODE_LOAD ?= true

.DEFAULT_GOAL := help
.PHONY: help build test test-unit test-integration test-e2e node lint bench peers dev components images clean fmt generate

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'
build: ## Build tenantry, tenantry-vcluster and tenantry-images into bin/ in one go build (static and stripped, as the images hold them).
	CGO_ENABLED=0 go build -trimpath -gcflags=all=-dwarf=false -ldflags='-s -w' -o $(BIN)/ ./cmd/tenantry ./cmd/tenantry-vcluster ./cmd/tenantry-images
test: components node images ## Run every tier: unit tests, integration tests against real components, the e2e tier on a real node.
	go test -count=1 -timeout=30m ./...
test-unit: ## Run the unit tier only (no binaries needed).
	go test -count=1 $(UNIT_PKGS)
test-integration: components ## Run the integration tier only (real kube-apiserver, etcd, kine, Gatekeeper).
	go test -count=1 -timeout=30m ./test/integration/...
test-e2e: components node images ## Run the e2e tier only: real containers on a real node (containerd, kubelet, kube-proxy; needs root).
	go test -count=1 -timeout=30m ./test/e2e/...
node: ## Install the real node's Debian packages (root) and build kubelet, kube-scheduler, kube-proxy, the kubectl and helm the tests drive as users do, the NetworkPolicy enforcer and the host's metrics-server; on failure the e2e tier skips.
	bash hack/node-deps.sh && bash hack/components.sh kubernetes-node-v1.37.2 kubectl-v1.37.2 helm || echo "node: the real node cannot be set up; the e2e tier will skip and say why" >&2; bash hack/components.sh kube-network-policies || echo "node: the NetworkPolicy enforcer cannot be built; NetworkPolicy tests will skip and say why" >&2; bash hack/components.sh metrics-server || echo "node: metrics-server cannot be built; metrics tests will skip and say why" >&2
lint: $(LINT) ## Run golangci-lint (pinned, installed into bin/).
	$(LINT) run ./...
generate: ## Regenerate api/v1alpha1's DeepCopy functions (deepcopy-gen, pinned to the k8s.io release in go.mod).
	go run k8s.io/code-generator/cmd/deepcopy-gen@$(CODE_GENERATOR_VERSION) --go-header-file /dev/null --output-file zz_generated.deepcopy.go ./api/v1alpha1
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')
bench: components peers $(if $(filter true,$(BENCH_NODE)),node images) ## Run the benchmarks against real components and peers, and on a real node (root; BENCH_NODE=false skips it) with the pod loads beside the vcluster peer (BENCH_NODE_LOAD=false skips them), and the syncer with 1,000 pods (BENCH_SYNCER=false skips it); prints a table, writes bench/results/latest.json and chart.svg.
	go run ./cmd/tenantry-bench -tenants=$(BENCH_TENANTS) -runs=$(BENCH_RUNS) -large-runs=$(BENCH_LARGE_RUNS) -peer-limit=$(BENCH_PEER_LIMIT) -node=$(BENCH_NODE) -node-load=$(BENCH_NODE_LOAD) -syncer=$(BENCH_SYNCER) -out=bench/results
peers: ## Build the benchmark's peers (Flux kustomize-controller; loft-sh vcluster, ~18 min cold); a failed build is reported in the bench table, not fatal.
	bash hack/components.sh flux || echo "peers: Flux could not be built; the bench table will say so" >&2
	bash hack/components.sh vcluster || echo "peers: vcluster could not be built; the bench table will say so" >&2
dev: ## Build only what it runs (older Kubernetes versions in the background while it runs), start a local host control plane and reconcile tenants-example/ (Ctrl-C stops it); as root it adds a real node running the virtual clusters (NODE=0 turns it off; DEV_ARGS=--once exits when all are Ready).
	bash hack/dev.sh $(DEV_ARGS)
components: ## Build the pinned kube-apiserver, kube-controller-manager, etcd, kine and Gatekeeper (cached by version; two at a time).
	bash hack/components.sh
images: components ## Build the agent and virtual cluster images as tarballs in bin/images, without Docker (VERSION=dev tags the agent).
	go run ./cmd/tenantry-images -out=$(BIN)/images -components=$(BIN)/components -version=$${VERSION:-dev}
clean: ## Remove build outputs (the component cache outside the tree is kept).
	rm -rf $(BIN) bench/results/tmp
$(LINT): ## (file) the pinned linter, named by version so a bump reinstalls it.
	GOBIN=$(CURDIR)/$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) && mv $(BIN)/golangci-lint $@
