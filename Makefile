# DistSac — the two commands a newcomer needs are `make run` and `make test`; both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIG ?= Release
DOTNET ?= dotnet
DISTSAC := src/DistSac.Cli/bin/$(CONFIG)/net10.0/distsac
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: help deps restore build run train test test-learning test-cluster test-faults test-images test-aot bench soak images clean

help:
	@echo "make run            train Pendulum-v1 with the embedded defaults (installs what is missing first)"
	@echo "make test           unit and integration tests (< 20 min on 2 cores)"
	@echo "make test-learning  learning-quality runs (several seeds; long)"
	@echo "make test-cluster   the tls and persistent overlays as processes in network namespaces and on the images (root; ~6 min)"
	@echo "make test-faults    seeded kills/restarts of every role, a corrupt checkpoint, a fuzzer; audits Redis (~2 min)"
	@echo "make test-aot       publishes the Native AOT worker (distsac-worker) and runs it against a gateway and Redis (~5 min)"
	@echo "make test-images    builds the images (podman without Docker) and runs them as containers (root; ~5 min, ~1 min when built)"
	@echo "make bench          all benchmarks, one JSON line each"
	@echo "make soak           200k learner updates under distsac local on a fully loaded machine (~45 min; by hand)"

deps:
	@bash deploy/host/install-deps.sh

restore: deps
	@echo "[make] dotnet restore"
	@$(DOTNET) restore DistSac.sln --verbosity quiet

build: restore
	@echo "[make] dotnet build -c $(CONFIG)"
	@$(DOTNET) build DistSac.sln -c $(CONFIG) --no-restore --verbosity quiet -nologo -clp:NoSummary

run: build
	@$(DISTSAC) local --env Pendulum-v1 --workers 2 --shards 1 --seed 0

test: build
	@echo "[make] dotnet test (excluding Category=Learning, Category=Cluster, Category=Faults, Category=Images and Category=Aot)"
	@$(DOTNET) test DistSac.sln -c $(CONFIG) --no-build --filter "Category!=Learning&Category!=Cluster&Category!=Faults&Category!=Images&Category!=Aot" --logger "console;verbosity=normal" 2>&1 | tee /tmp/distsac-test.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test.log

test-learning: build
	@echo "[make] learning-quality tests (Category=Learning)"
	@$(DOTNET) test DistSac.sln -c $(CONFIG) --no-build --filter "Category=Learning" --logger "console;verbosity=normal" 2>&1 | tee /tmp/distsac-test-learning.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test-learning.log

# The rendered overlays as pods: host processes in network namespaces (the tls and persistent scenarios) and the built
# images as podman pods (`podman kube play`; builds the images like `make images`, reused when unchanged). Needs root.
test-cluster: build
	@DISTSAC_DEPS_CLUSTER=1 DISTSAC_DEPS_IMAGES=1 bash deploy/host/install-deps.sh
	@echo "[make] cluster-shaped run (Category=Cluster)"
	@$(DOTNET) test DistSac.sln -c $(CONFIG) --no-build --filter "Category=Cluster" --logger "console;verbosity=detailed" 2>&1 | tee /tmp/distsac-test-cluster.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test-cluster.log

# The fault suite (docs/reliability.md): real processes killed and restarted at seeded random points.
# DISTSAC_FAULT_SEED=<n> replays another seed.
test-faults: build
	@echo "[make] fault suite (Category=Faults)"
	@$(DOTNET) test tests/DistSac.Faults.Tests -c $(CONFIG) --no-build --filter "Category=Faults" --logger "console;verbosity=normal" 2>&1 | tee /tmp/distsac-test-faults.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test-faults.log

bench: build
	@bash bench/run-all.sh artifacts/bench-results.jsonl --with-e2e

# The learner soak: not in CI (longer than CI allows); run by hand, result recorded in docs/reliability.md.
soak: build
	@bash bench/soak.sh $(SOAK_STEPS)

# Container images: docker build where a Docker daemon answers, else podman with a base built from Debian packages and
# the publish made on the host (deploy/docker/build-images.sh; installs podman, buildah, runc). See docs/kubernetes.md.
REGISTRY ?= distsac
TAG ?= 0.1.0
images:
	@DISTSAC_DEPS_IMAGES=1 bash deploy/host/install-deps.sh
	@bash deploy/docker/build-images.sh $(REGISTRY) $(TAG)

# The Native AOT worker: deploy/docker/publish.sh aot-worker (minutes), then a rollout against a real gateway and Redis.
test-aot: build
	@echo "[make] Native AOT worker (Category=Aot)"
	@$(DOTNET) test tests/DistSac.Aot.Tests -c $(CONFIG) --no-build --filter "Category=Aot" --logger "console;verbosity=normal" 2>&1 | tee /tmp/distsac-test-aot.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test-aot.log

# The images run as containers (tests/DistSac.Images.Tests): builds them like `make images` (reused when their inputs
# did not change), then runs them with podman on a network the test creates. Needs root.
test-images: build
	@DISTSAC_DEPS_IMAGES=1 bash deploy/host/install-deps.sh
	@echo "[make] container images (Category=Images)"
	@$(DOTNET) test tests/DistSac.Images.Tests -c $(CONFIG) --no-build --filter "Category=Images" --logger "console;verbosity=detailed" 2>&1 | tee /tmp/distsac-test-images.log || true
	@bash .ci/summarize-tests.sh /tmp/distsac-test-images.log

clean:
	@$(DOTNET) clean DistSac.sln -c $(CONFIG) --verbosity quiet
