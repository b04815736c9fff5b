#!/usr/bin/env bash
# Installs what DistSac needs on a Debian host, only where it is missing (idempotent).
# - redis-server (Debian package): replay shards for `distsac local` and the tests.
# - libstdc++ with GLIBCXX_3.4.32: TorchSharp 0.107's libLibTorchSharp.so needs it; Debian 12 stops at 3.4.30,
#   so every TorchSharp call fails with DllNotFoundException. Debian 13's libstdc++6 is installed from a
#   trixie apt source pinned at priority 100 (nothing else is upgraded from it).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = "0" ]; then
    echo "[install-deps] apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
}

libstdcxx_path() {
  for p in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
    if [ -e "$p" ]; then echo "$p"; return; fi
  done
}

has_glibcxx_3432() {
  local lib; lib="$(libstdcxx_path)"
  [ -n "$lib" ] && grep -a -q 'GLIBCXX_3\.4\.32' "$lib"
}

if has_glibcxx_3432; then
  echo "[install-deps] libstdc++ has GLIBCXX_3.4.32: ok"
else
  echo "[install-deps] libstdc++ lacks GLIBCXX_3.4.32 (needed by TorchSharp 0.107): installing libstdc++6 from Debian 13 (trixie), pinned at priority 100"
  if ! grep -rqs 'trixie' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian trixie main" | $SUDO tee /etc/apt/sources.list.d/distsac-trixie.list >/dev/null
  fi
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/distsac-trixie-pin >/dev/null
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  has_glibcxx_3432 || { echo "[install-deps] ERROR: libstdc++ still lacks GLIBCXX_3.4.32" >&2; exit 1; }
  echo "[install-deps] libstdc++6 from trixie installed"
fi

if command -v redis-server >/dev/null 2>&1; then
  echo "[install-deps] redis-server present: $(redis-server --version | awk '{print $3}')"
else
  echo "[install-deps] installing redis-server (Debian package)"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
  # The package starts a system service on :6379; DistSac starts its own servers on free ports and does not need it.
  ($SUDO systemctl disable --now redis-server >/dev/null 2>&1 || $SUDO service redis-server stop >/dev/null 2>&1 || true)
  echo "[install-deps] redis-server installed: $(redis-server --version | awk '{print $3}')"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "[install-deps] ERROR: the .NET 10 SDK (dotnet) is not on PATH; install it from https://dot.net" >&2
  exit 1
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "[install-deps] WARNING: kubectl not found: the manifest tests (tests/DistSac.Deploy.Tests) need it for 'kubectl kustomize'" >&2
fi

# The cluster-shaped run (make test-cluster): ip (iproute2) for network namespaces, setpriv and unshare (util-linux).
if [ "${DISTSAC_DEPS_CLUSTER:-0}" = "1" ]; then
  missing=""
  command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
  { command -v setpriv >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; } || missing="$missing util-linux"
  if [ -n "$missing" ]; then
    echo "[install-deps] installing$missing (for the cluster-shaped run)"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  else
    echo "[install-deps] ip, setpriv, unshare present: ok"
  fi
fi


# Container images (make images, make test-images): podman, buildah and runc from Debian; debootstrap-free, the
# base image is assembled from Debian packages by deploy/docker/base-rootfs.sh (apt-get download + dpkg-deb).
# Two settings in /etc/containers/containers.conf make podman work on this kind of VM:
# - runtime = "runc": Debian's default crun fails here with "cgroups in hybrid mode not supported";
# - default_ulimits = []: else every container fails with "setrlimit RLIMIT_NOFILE: Operation not permitted".
# Skipped when a Docker daemon answers (make images then uses docker).
if [ "${DISTSAC_DEPS_IMAGES:-0}" = "1" ] && ! { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }; then
  missing=""
  for tool in podman buildah runc; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
  done
  if [ -n "$missing" ]; then
    echo "[install-deps] installing$missing (Debian packages, for the container images)"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  else
    echo "[install-deps] podman, buildah, runc present: ok"
  fi
  conf=/etc/containers/containers.conf
  if [ -f "$conf" ] && grep -qE '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$conf" \
      && grep -qE '^[[:space:]]*default_ulimits[[:space:]]*=[[:space:]]*\[\]' "$conf"; then
    echo "[install-deps] $conf: runtime = \"runc\", default_ulimits = []: ok"
  elif [ -f "$conf" ] && grep -qE '^[[:space:]]*(\[engine\]|\[containers\])' "$conf"; then
    echo "[install-deps] ERROR: $conf exists with its own [engine]/[containers] sections; add runtime = \"runc\" under [engine] and default_ulimits = [] under [containers] by hand" >&2
    exit 1
  else
    echo "[install-deps] writing $conf: runtime = \"runc\" (crun: cgroups in hybrid mode not supported), default_ulimits = [] (setrlimit RLIMIT_NOFILE not permitted)"
    $SUDO mkdir -p /etc/containers
    printf '# Written by DistSac deploy/host/install-deps.sh (DISTSAC_DEPS_IMAGES=1).\n[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' \
      | $SUDO tee -a "$conf" >/dev/null
  fi
fi
