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

