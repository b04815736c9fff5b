namespace DistSac.Local;

/// <summary>
/// The .NET runtime settings every JIT worker process is started with (by `distsac local` and `bench scale`), measured in
/// docs/benchmarks.md ("Lightweight workers"): the one place they are decided.
/// </summary>
public static class WorkerRuntimeEnvironment
{
    /// <summary>Adds the worker runtime settings to a child's environment.</summary>
    public static void AddTo(IDictionary<string, string> environment)
    {
        // A smaller gen-0 budget keeps a busy worker's RSS under 80 MB (measured 85 MB with the default).
        environment["DOTNET_GCgen0size"] = "0x400000";
        // No PGO-instrumented tier: with it the JIT kept recompiling the hot loop (its thread used ~1.3 s of CPU per 20 s
        // of a 1-env worker); and no background GC thread.
        environment["DOTNET_TieredPGO"] = "0";
        environment["DOTNET_gcConcurrent"] = "0";
    }
}
