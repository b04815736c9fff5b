#!/usr/bin/env bash
# A stand-in for the manifests' redis:7.2.5 image where no container registry is reachable (the cluster-shaped run on
# the images, tests/DistSac.Cluster.Tests, `make test-cluster`): Debian 13's redis-server and redis-cli, and busybox
# for the `sh`, `cat` and `grep` that the Redis StatefulSet's command and readiness probe call, on the DistSac base
# (deploy/docker/base-rootfs.sh, built by deploy/docker/build-images.sh). Same layout as the upstream image where the
# manifests look: redis-server and redis-cli on PATH, /data the working directory. Production uses the upstream image.
#
#   tests/DistSac.Cluster.Tests/build-redis-image.sh [NAME]   default localhost/distsac-redis-debian:<redis version>; prints NAME
# Rebuilt only when the base or a package version changed (label distsac.inputs).
set -euo pipefail
cd "$(dirname "$0")/../.."

SUITE=trixie
# redis-tools holds redis-server (a link to redis-check-rdb) and redis-cli; the rest are what they link and busybox.
PACKAGES=(redis-tools libatomic1 libjemalloc2 liblzf1 libsystemd0 libcap2 busybox-static)

# One apt-cache call for all packages (each call reads every package list: seconds on a loaded machine).
versions() {
  local pins p
  pins="$(apt-cache madison "${PACKAGES[@]}" | awk -F'|' -v s=" $SUITE/" \
    'index($3, s) {gsub(/ /, "", $1); gsub(/ /, "", $2); if (!($1 in seen)) {seen[$1] = 1; print $1 "=" $2}}' | sort)"
  for p in "${PACKAGES[@]}"; do
    grep -q "^$p=" <<<"$pins" || { echo "no $SUITE version of $p: add a $SUITE apt source (deploy/host/install-deps.sh does)" >&2; exit 1; }
  done
  echo "$pins"
}

base="localhost/distsac-base:$(bash deploy/docker/base-rootfs.sh tag)"
podman image exists "$base" || { echo "[redis-image] $base is missing: run make images first" >&2; exit 1; }
mapfile -t pins < <(versions)
redis_version="$(printf '%s\n' "${pins[@]}" | awk -F'[=:-]' '/^redis-tools=/ {print $4; exit}')"
name="${1:-localhost/distsac-redis-debian:$redis_version}"
inputs="$( { printf '%s\n' "${pins[@]}"; echo "$base"; sha256sum < "$0"; } | sha256sum | cut -c1-16)"
if [[ "$(podman image inspect --format '{{ index .Labels "distsac.inputs" }}' "$name" 2>/dev/null || true)" == "$inputs" ]]; then
  echo "$name"
  exit 0
fi

work="$(mktemp -d /var/tmp/distsac-redis-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's download user (_apt) writes there
mkdir "$work/debs" "$work/root"
chmod 777 "$work/debs"
(cd "$work/debs" && apt-get download -qq -o APT::Sandbox::User=root "${pins[@]}")
for deb in "$work/debs"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
root="$work/root"
# Only the binaries the manifest runs; busybox gives sh, cat and grep.
mkdir -p "$root/usr/local/bin"
mv "$root/usr/bin/redis-check-rdb" "$root/usr/local/bin/redis-server"
mv "$root/usr/bin/redis-cli" "$root/usr/local/bin/redis-cli"
mv "$root/usr/bin/busybox" "$root/usr/local/bin/busybox"
for tool in sh cat grep; do ln -s busybox "$root/usr/local/bin/$tool"; done
rm -rf "$root/usr/bin" "$root/usr/share" "$root/etc" "$root/lib" "$root/usr/lib/systemd" "$root/usr/libexec"
# /data owned by the image's user, as the upstream image's /data is owned by its redis user: a volume mounted there
# takes this directory's owner and mode (podman copies them onto a new volume, as Docker does).
mkdir -p "$work/data"
cat > "$work/Containerfile" <<EOF
FROM $base
COPY root/ /
COPY --chown=1654:1654 data/ /data/
WORKDIR /data
USER 1654:1654
EXPOSE 6379
CMD ["redis-server"]
EOF
previous="$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
podman build --quiet --layers=false -f "$work/Containerfile" --label distsac.inputs="$inputs" \
  --label org.opencontainers.image.description="redis-server from Debian $SUITE packages (stand-in for the upstream redis image)" \
  -t "$name" "$work" >/dev/null
# The earlier build of this tag, now untagged (kept if something still uses it).
if [[ -n "$previous" && "$previous" != "$(podman image inspect --format '{{.Id}}' "$name")" ]]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
echo "$name"
