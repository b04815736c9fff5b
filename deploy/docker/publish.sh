#!/usr/bin/env bash
# The one publish every image is built from. The Dockerfiles call it, and so does the cluster-shaped run
# (tests/DistSac.Cluster.Tests, `make test-cluster`), so what runs here is what the images hold.
#
#   deploy/docker/publish.sh publish OUT [cpu|cuda]   dotnet publish of `distsac` into OUT (framework-dependent, linux-x64)
#   deploy/docker/publish.sh strip-torch OUT          delete the native libtorch libraries from OUT: the slim image
#                                                     (worker, gateway, eval), which never loads torch
set -euo pipefail

usage() { echo "usage: $0 publish OUT [cpu|cuda] | strip-torch OUT" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cd "$(dirname "$0")/../.."

case "$1" in
  publish)
    backend="${3:-cpu}"
    [[ "$backend" == cpu || "$backend" == cuda ]] || usage
    # TorchBackend picks TorchSharp-cpu or TorchSharp-cuda-linux; linux-x64 only, so no osx/win native payloads.
    dotnet publish src/DistSac.Cli/DistSac.Cli.csproj -c Release -r linux-x64 --self-contained false \
      -p:TorchBackend="$backend" -p:DebugType=none -o "$2" --nologo --verbosity quiet
    ;;
  strip-torch)
    [[ -x "$2/distsac" ]] || { echo "$2 holds no published distsac" >&2; exit 1; }
    # Every native library TorchSharp brings (libtorch*, libc10*, libLibTorchSharp, its libgomp, test/backend
    # plugins). Other native libraries stay.
    find "$2" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libLibTorchSharp*' -o -name 'libgomp*.so*' \
        -o -name 'libshm.so' -o -name 'libaoti_custom_ops.so' -o -name 'libbackend_with_compiler.so' \
        -o -name 'libjitbackend_test.so' -o -name 'libnnapi_backend.so' \) -delete
    ;;
  *) usage ;;
esac
