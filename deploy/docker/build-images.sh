#!/usr/bin/env bash
# Builds the DistSac images (make images). With a Docker daemon: docker build of every target, as documented in
# docs/kubernetes.md. Without one: podman, on a machine that may reach no container registry but does reach NuGet and
# a Debian mirror:
# - the base is deploy/docker/base-rootfs.sh's Debian 13 file system, imported once per package set
#   (localhost/distsac-base:trixie-<hash>);
# - deploy/docker/publish.sh publishes on the host (image-slim, image-learner) into a staging directory that is the
#   build context (PUBLISH_FROM=context), so the Dockerfile's runtime stages are the ones Docker builds elsewhere;
# - an image is rebuilt only when its inputs changed: the images carry the label distsac.inputs, a hash of every file
#   the publish reads (src/, the root props files, deploy/docker/) and the base tag;
# - the GPU image is skipped: no CUDA base image or TorchSharp-cuda-linux package is reachable here (unverified).
#
#   deploy/docker/build-images.sh [REGISTRY [TAG]]      defaults: distsac 0.1.0
#   DISTSAC_IMAGES_ENGINE=podman|docker                  force an engine
#   DISTSAC_IMAGES_FORCE=1                               rebuild even when the inputs did not change
set -euo pipefail
cd "$(dirname "$0")/../.."

REGISTRY="${1:-distsac}"
TAG="${2:-0.1.0}"
SLIM="$REGISTRY/distsac:$TAG"
LEARNER="$REGISTRY/distsac-learner:$TAG"
GPU="$REGISTRY/distsac-learner-gpu:$TAG"
WORKER_AOT="$REGISTRY/distsac-worker:$TAG"

engine="${DISTSAC_IMAGES_ENGINE:-}"
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  else
    echo "[images] ERROR: neither a Docker daemon nor podman: run DISTSAC_DEPS_IMAGES=1 bash deploy/host/install-deps.sh" >&2
    exit 1
  fi
fi

if [[ "$engine" == docker ]]; then
  echo "[images] docker: building $SLIM, $LEARNER, $GPU"
  docker build -f deploy/docker/Dockerfile --target slim    -t "$SLIM" .
  docker build -f deploy/docker/Dockerfile --target learner -t "$LEARNER" .
  docker build -f deploy/docker/Dockerfile --target worker-aot -t "$WORKER_AOT" .
  docker build -f deploy/docker/Dockerfile.gpu              -t "$GPU" .
  exit 0
fi

# What the images are made of; a change to any of these files rebuilds them. bin/ and obj/ are build outputs.
inputs_hash() {
  {
    find src deploy/docker -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum Directory.Build.props Directory.Packages.props global.json
    echo "$1"
  } | sha256sum | cut -c1-16
}

image_inputs() { podman image inspect --format '{{ index .Labels "distsac.inputs" }}' "$1" 2>/dev/null || true; }

base_tag="$(bash deploy/docker/base-rootfs.sh tag)"
base="localhost/distsac-base:$base_tag"
if podman image exists "$base"; then
  echo "[images] base $base present"
else
  echo "[images] base $base: Debian 13 packages from apt's mirror (deploy/docker/base-rootfs.sh)"
  rootfs="$(mktemp -d)/rootfs"
  bash deploy/docker/base-rootfs.sh build "$rootfs"
  tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
    --change 'LABEL org.opencontainers.image.description=DistSac runtime-deps base from Debian 13 packages' - "$base" >/dev/null
  rm -rf "$(dirname "$rootfs")"
fi

inputs="$(inputs_hash "$base")"
if [[ "${DISTSAC_IMAGES_FORCE:-0}" != "1" && "$(image_inputs "$SLIM")" == "$inputs" && "$(image_inputs "$LEARNER")" == "$inputs" \
      && "$(image_inputs "$WORKER_AOT")" == "$inputs" ]]; then
  echo "[images] $SLIM, $LEARNER and $WORKER_AOT are up to date (inputs $inputs)"
  exit 0
fi

context="$(mktemp -d /var/tmp/distsac-image-context.XXXXXX)"
trap 'rm -rf "$context"' EXIT
started=$SECONDS
echo "[images] publishing on the host: deploy/docker/publish.sh image-slim, image-learner, aot-worker"
bash deploy/docker/publish.sh image-slim "$context/slim"
bash deploy/docker/publish.sh image-learner "$context/learner" cpu
bash deploy/docker/publish.sh aot-worker "$context/aot-worker"
echo "[images] published in $((SECONDS - started)) s"

for target in slim learner worker-aot; do
  name="$SLIM"; [[ "$target" == learner ]] && name="$LEARNER"; [[ "$target" == worker-aot ]] && name="$WORKER_AOT"
  previous="$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
  echo "[images] podman build --target $target -t $name"
  podman build --quiet --layers=false -f deploy/docker/Dockerfile --target "$target" \
    --build-arg PUBLISH_FROM=context --build-arg SLIM_BASE="$base" --build-arg LEARNER_BASE="$base" --build-arg AOT_BASE="$base" \
    --label distsac.inputs="$inputs" -t "$name" "$context" >/dev/null
  echo "[images] $name: $(podman image inspect --format '{{.Size}}' "$name" | awk '{printf "%.1f MB", $1 / 1e6}')"
  # The earlier build of this tag, now untagged (kept if something still uses it).
  if [[ -n "$previous" && "$previous" != "$(podman image inspect --format '{{.Id}}' "$name")" ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
  fi
done
echo "[images] built in $((SECONDS - started)) s; GPU image $GPU skipped: no CUDA base or TorchSharp-cuda-linux is reachable here (unverified)"
