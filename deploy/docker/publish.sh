#!/usr/bin/env bash
# The one publish every image is built from. The Dockerfiles call it, and so does the cluster-shaped run
# (tests/DistSac.Cluster.Tests, `make test-cluster`), so what runs here is what the images hold.
#
#   deploy/docker/publish.sh publish OUT [cpu|cuda]   dotnet publish of `distsac` into OUT (framework-dependent, linux-x64)
#   deploy/docker/publish.sh aot-worker OUT           the worker image's /app: distsac-worker (src/DistSac.Worker.Host)
#                                                     as Native AOT, one executable without a .NET runtime or libtorch;
#                                                     trim/AOT warnings are errors (needs clang or gcc)
#   deploy/docker/publish.sh strip-torch OUT          delete the native libtorch libraries from OUT: the slim image
#                                                     (worker, gateway, eval), which never loads torch
#   deploy/docker/publish.sh image-learner OUT [cpu|cuda]
#                                                     the learner images' /app: the same publish, self-contained, so
#                                                     the base needs no .NET runtime (runtime-deps)
#   deploy/docker/publish.sh image-slim OUT           the slim image's /app: the same publish, self-contained and
#                                                     trimmed, then strip-torch (measured: 45 MB)
set -euo pipefail

usage() { echo "usage: $0 publish|image-learner OUT [cpu|cuda] | image-slim OUT | aot-worker OUT | strip-torch OUT" >&2; exit 2; }

# One dotnet publish for every image; the modes differ only in the extra properties. TorchBackend picks TorchSharp-cpu
# or TorchSharp-cuda-linux; linux-x64 only, so no osx/win native payloads.
dotnet_publish() {
  local out="$1" backend="$2"; shift 2
  [[ "$backend" == cpu || "$backend" == cuda ]] || usage
  dotnet publish src/DistSac.Cli/DistSac.Cli.csproj -c Release -r linux-x64 \
    -p:TorchBackend="$backend" -p:DebugType=none -o "$out" --nologo --verbosity quiet "$@"
}

# Trimming for the slim image only, given here so normal builds are unchanged. TrimMode=partial trims only the
# assemblies marked trimmable (the .NET and ASP.NET Core framework) and keeps DistSac's and the packages' whole: they
# bind options and serialize JSON by reflection, which a full trim would break. The trim analysis warnings (IL2xxx,
# from that reflection) are suppressed and the compile-time trim analyzer is off for this publish only; every other
# warning is still an error. JSON reflection and the reflection-based configuration binder stay on, as untrimmed.
SLIM_TRIM=(-p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true -p:EnableTrimAnalyzer=false
  -p:JsonSerializerIsReflectionEnabledByDefault=true -p:EnableConfigurationBindingGenerator=false)
[[ $# -ge 2 ]] || usage
cd "$(dirname "$0")/../.."

strip_torch() {
  [[ -x "$1/distsac" ]] || { echo "$1 holds no published distsac" >&2; exit 1; }
  # Every native library TorchSharp brings (libtorch*, libc10*, libLibTorchSharp, its libgomp, test/backend
  # plugins). Other native libraries stay.
  find "$1" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libLibTorchSharp*' -o -name 'libgomp*.so*' \
      -o -name 'libshm.so' -o -name 'libaoti_custom_ops.so' -o -name 'libbackend_with_compiler.so' \
      -o -name 'libjitbackend_test.so' -o -name 'libnnapi_backend.so' \) -delete
}

case "$1" in
  publish)
    dotnet_publish "$2" "${3:-cpu}" --self-contained false
    ;;
  image-learner)
    dotnet_publish "$2" "${3:-cpu}" --self-contained true
    ;;
  image-slim)
    dotnet_publish "$2" cpu --self-contained true "${SLIM_TRIM[@]}"
    strip_torch "$2"
    ;;
  aot-worker)
    dotnet publish src/DistSac.Worker.Host/DistSac.Worker.Host.csproj -c Release -r linux-x64 -p:DebugType=none -o "$2" --nologo --verbosity quiet
    ;;
  strip-torch)
    strip_torch "$2"
    ;;
  *) usage ;;
esac
