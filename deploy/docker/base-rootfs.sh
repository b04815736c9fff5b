#!/usr/bin/env bash
# The base image for machines that cannot pull from a container registry (make images with podman; see
# docs/kubernetes.md): what mcr.microsoft.com/dotnet/runtime-deps:*-chiseled holds, assembled from Debian 13 (trixie)
# packages fetched by apt from the host's Debian mirror. A self-contained .NET publish needs only these native
# libraries; trixie because TorchSharp 0.107's libLibTorchSharp.so needs libstdc++ GLIBCXX_3.4.32 (Debian 12 lacks it).
# No shell, no package manager: like a distroless image, it can only run the entrypoint it is given.
#
#   deploy/docker/base-rootfs.sh tag           print the image tag for the current package versions (the cache key)
#   deploy/docker/base-rootfs.sh build DIR     unpack the packages into DIR (must not exist) as a root file system
set -euo pipefail

SUITE=trixie
# libc6..libgcc-s1: the runtime and libtorch; libssl3t64 (+ libzstd1, zlib1g): System.Security.Cryptography (TLS);
# ca-certificates: the CA bundle for TLS; netbase: /etc/services and /etc/protocols. No libicu: InvariantGlobalization.
PACKAGES=(libc6 libgcc-s1 gcc-14-base libstdc++6 zlib1g libzstd1 libssl3t64 ca-certificates netbase)
APP_UID=1654

usage() { echo "usage: $0 tag | build DIR" >&2; exit 2; }

versions() {
  local p v
  for p in "${PACKAGES[@]}"; do
    # The newest version apt's sources offer from trixie (on a bookworm host: the source install-deps.sh pins at 100).
    v="$(apt-cache madison "$p" | awk -F'|' -v s=" $SUITE/" 'index($3, s) {gsub(/ /, "", $2); print $2; exit}')"
    [[ -n "$v" ]] || { echo "no $SUITE version of $p: add a $SUITE apt source (deploy/host/install-deps.sh does)" >&2; exit 1; }
    echo "$p=$v"
  done
}

case "${1:-}" in
  tag)
    echo "trixie-$(versions | sha256sum | cut -c1-12)"
    ;;
  build)
    [[ $# -eq 2 ]] || usage
    root="$2"
    [[ ! -e "$root" ]] || { echo "$root exists; give a new directory" >&2; exit 1; }
    debs="$(mktemp -d)"
    trap 'rm -rf "$debs"' EXIT
    mapfile -t pins < <(versions)
    chmod 755 "$debs"   # apt's download user (_apt) writes there
    (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "${pins[@]}")
    mkdir -p "$root"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    # merged /usr as in Debian 13: /lib64/ld-linux-x86-64.so.2 must resolve for every ELF file.
    for d in lib lib64; do
      if [[ -d "$root/usr/$d" && ! -e "$root/$d" ]]; then ln -s "usr/$d" "$root/$d"; fi
    done
    # What the maintainer scripts would have made: the CA bundle (update-ca-certificates concatenates the same files).
    mkdir -p "$root/etc/ssl/certs"
    find "$root/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat > "$root/etc/ssl/certs/ca-certificates.crt"
    # Nothing in the image reads these; gconv modules are glibc's iconv, unused by .NET.
    rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" \
      "$root/usr/share/locale" "$root/usr/lib/x86_64-linux-gnu/gconv" "$root/usr/share/i18n" \
      "$root/usr/bin" "$root/usr/sbin" "$root/usr/libexec" "$root/etc/ld.so.conf.d" "$root/usr/share/gcc"
    mkdir -p "$root/tmp" "$root/home/app" "$root/app" "$root/var/tmp"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    # The .NET images' non-root user: app, UID/GID 1654 ($APP_UID); the manifests run as 1654.
    printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:%s:%s::/home/app:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' "$APP_UID" "$APP_UID" > "$root/etc/passwd"
    printf 'root:x:0:\napp:x:%s:\nnogroup:x:65534:\n' "$APP_UID" > "$root/etc/group"
    printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
    chown "$APP_UID:$APP_UID" "$root/home/app"
    printf '%s\n' "${pins[@]}" > "$root/etc/distsac-base-packages"
    ;;
  *) usage ;;
esac
