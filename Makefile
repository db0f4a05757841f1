# Kova: an OpenStack-compatible compute service on Kubernetes.
# `make run` starts everything on a local control plane; `make test` runs every test.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
# Control-plane binaries are built from source once and shared by every clone on this
# machine: a fresh clone links them from the cache instead of compiling for minutes.
TOOLS_CACHE ?= $(HOME)/.cache/kova/bin

KUBE_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.16
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.2

# The image of both binaries (Dockerfile) that `make deploy` and `make build-installer` use.
IMG ?= controller:latest
# CONTAINER_TOOL builds and pushes the image (docker, podman).
CONTAINER_TOOL ?= docker

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
KUSTOMIZE ?= $(LOCALBIN)/kustomize
KUBE_APISERVER ?= $(LOCALBIN)/kube-apiserver
KUBE_CONTROLLER_MANAGER ?= $(LOCALBIN)/kube-controller-manager
KUBECTL ?= $(LOCALBIN)/kubectl
ETCD ?= $(LOCALBIN)/etcd

export KOVA_BIN_DIR := $(LOCALBIN)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs, RBAC and webhook configurations.
	$(CONTROLLER_GEN) crd webhook paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:webhook:artifacts:config=config/webhook
	$(CONTROLLER_GEN) rbac:roleName=kova-manager paths="./controllers/...;./cmd/manager/...;./internal/certrotation/..." \
		output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=kova-nova-api paths="./internal/novaserver/..." output:rbac:stdout \
		> config/rbac/nova_api_role.yaml

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: test
test: manifests generate vet control-plane openstack-cli ## Run every test (unit, envtest suites, end to end).
	go test ./... -count=1 -timeout 40m

# Tempest's compute API tests against Kova on a local control plane (not part of `make test`:
# minutes of both cores). TEMPEST_REGEX narrows the selection; docs/tempest.md has the results.
.PHONY: tempest
tempest: build control-plane ## Run Tempest's compute API tests against Kova and compare with real Nova.
	hack/tempest/run.sh

.PHONY: bench
bench: manifests generate control-plane ## Run the benchmarks and print their figures.
	go test ./test/bench/... -count=1 -timeout 60m -run '^$$' -bench . -benchtime 1x -v

##@ Build

.PHONY: build
build: manifests generate ## Build the manager and the local control plane runner.
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/localcp ./cmd/localcp
	go build -o $(LOCALBIN)/nova-api ./cmd/nova-api

# The simulated driver's settings `make run` passes to the manager (flags of the same names),
# e.g. make run SIM_STEP_LATENCY=0 SIM_HOSTS="h1:vcpus=4096,ram=4194304,disk=65536;h2:..."
# CPU_ALLOCATION_RATIO, RAM_ALLOCATION_RATIO, DISK_ALLOCATION_RATIO are Nova's (4.0, 1.0, 1.0).
# KOVA_GOGC is the manager's and nova-api's GOGC; empty (the default, so that benchmarks
# compare with earlier runs) leaves the environment's. config/manager and config/nova-api
# set 50: make run KOVA_GOGC=50 runs as they do (docs/benchmarks.md, "Memory per 1,000 servers").
KOVA_GOGC ?=
SIM_ARGS = $(if $(KOVA_GOGC),--go-gc='$(KOVA_GOGC)') \
	$(if $(SIM_STEP_LATENCY),--sim-step-latency='$(SIM_STEP_LATENCY)') \
	$(if $(SIM_HOSTS),--sim-hosts='$(SIM_HOSTS)') \
	$(if $(CPU_ALLOCATION_RATIO),--cpu-allocation-ratio='$(CPU_ALLOCATION_RATIO)') \
	$(if $(RAM_ALLOCATION_RATIO),--ram-allocation-ratio='$(RAM_ALLOCATION_RATIO)') \
	$(if $(DISK_ALLOCATION_RATIO),--disk-allocation-ratio='$(DISK_ALLOCATION_RATIO)')

.PHONY: run
run: build control-plane $(if $(shell command -v kubectl),,kubectl) ## Start etcd, kube-apiserver, the manager and the rest on loopback.
	$(LOCALBIN)/localcp --bin-dir $(LOCALBIN) --manager $(LOCALBIN)/manager --nova-api $(LOCALBIN)/nova-api \
		--config-dir config --data-dir $(CURDIR)/.kova $(SIM_ARGS)

.PHONY: docker-build
docker-build: ## Build the image of both binaries (IMG=...).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the image (IMG=...).
	$(CONTAINER_TOOL) push $(IMG)

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: everything `make deploy` applies, with IMG.
	mkdir -p dist
	cd config/default && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

# The deploy targets use the kubectl on PATH (the cluster's users have one), else bin/'s.
CLUSTER_KUBECTL ?= $(or $(shell command -v kubectl),$(KUBECTL))
NEED_KUBECTL := $(if $(shell command -v kubectl),,kubectl)

.PHONY: install
install: manifests kustomize $(NEED_KUBECTL) ## Install the CRDs into the cluster of ~/.kube/config.
	$(KUSTOMIZE) build config/crd | $(CLUSTER_KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize $(NEED_KUBECTL) ## Remove the CRDs (and every object of theirs) from the cluster.
	$(KUSTOMIZE) build config/crd | $(CLUSTER_KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize $(NEED_KUBECTL) ## Deploy Kova (IMG=...) into the cluster of ~/.kube/config.
	cd config/default && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(CLUSTER_KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize $(NEED_KUBECTL) ## Remove everything `make deploy` applied (ignore-not-found=true to ignore missing objects).
	$(KUSTOMIZE) build config/default | $(CLUSTER_KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

$(LOCALBIN) $(TOOLS_CACHE):
	mkdir -p $@

.PHONY: control-plane
control-plane: $(ETCD) $(KUBE_APISERVER) $(KUBE_CONTROLLER_MANAGER) ## Build etcd, kube-apiserver and kube-controller-manager from source (once).

# Kubernetes' binaries report the release they are built from (kube-apiserver's /version,
# kubectl version), as a released build does, instead of "v0.0.0-master+$$Format:%H$$", which
# kubectl and other clients cannot parse as a version.
KUBE_VERSION_LDFLAGS := $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(KUBE_VERSION) -X $(pkg).gitMajor=$(word 1,$(subst ., ,$(KUBE_VERSION:v%=%))) \
	-X $(pkg).gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION:v%=%))) -X $(pkg).gitTreeState=clean)

# cached-build NAME, module dir, package[, ldflags]: build into the shared cache unless it is
# there (keyed by the tools module's go.sum and the ldflags), then link into bin/.
define cached-build
	@key=$$(sha256sum $(2)/go.mod $(2)/go.sum | sha256sum | cut -c1-12); \
	if [ -n '$(strip $(4))' ]; then key=$$key-$$(echo '$(strip $(4))' | sha256sum | cut -c1-8); fi; \
	cached=$(TOOLS_CACHE)/$(1)-$$key; \
	if [ ! -x "$$cached" ]; then \
		echo "Building $(1) from source (once; cached in $(TOOLS_CACHE))"; \
		mkdir -p $(TOOLS_CACHE); \
		(cd $(2) && go build -ldflags "$(strip $(4))" -o "$$cached.tmp" $(3)) && mv "$$cached.tmp" "$$cached"; \
	fi; \
	mkdir -p $(LOCALBIN); ln -sf "$$cached" $(LOCALBIN)/$(1)
endef

$(ETCD): hack/tools/etcd/go.mod hack/tools/etcd/go.sum FORCE
	$(call cached-build,etcd,hack/tools/etcd,go.etcd.io/etcd/server/v3)

$(KUBE_APISERVER): hack/tools/go.mod hack/tools/go.sum FORCE
	$(call cached-build,kube-apiserver,hack/tools,k8s.io/kubernetes/cmd/kube-apiserver,$(KUBE_VERSION_LDFLAGS))

$(KUBE_CONTROLLER_MANAGER): hack/tools/go.mod hack/tools/go.sum FORCE
	$(call cached-build,kube-controller-manager,hack/tools,k8s.io/kubernetes/cmd/kube-controller-manager,$(KUBE_VERSION_LDFLAGS))

.PHONY: kubectl
kubectl: $(KUBECTL) ## Build kubectl from source (once).
$(KUBECTL): hack/tools/go.mod hack/tools/go.sum FORCE
	$(call cached-build,kubectl,hack/tools,k8s.io/kubernetes/cmd/kubectl,$(KUBE_VERSION_LDFLAGS))

.PHONY: openstack-cli
openstack-cli: ## Install the openstack CLI (Debian's python3-openstackclient) for the end-to-end tests.
	@command -v openstack >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-openstackclient >/dev/null; }

# FORCE runs a cached build's recipe every time: it only hashes the inputs and links the
# cached binary, and so picks up a change of version flags in an existing bin/.
.PHONY: FORCE
FORCE:

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
