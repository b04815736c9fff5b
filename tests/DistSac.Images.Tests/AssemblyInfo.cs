// podman, /proc and Unix file modes: these tests exist only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
