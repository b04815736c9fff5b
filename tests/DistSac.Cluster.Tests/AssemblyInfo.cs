// Network namespaces, setpriv and Unix file modes: this run exists only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
