using System.Diagnostics;

namespace DistSac.Aot.Tests;

/// <summary>
/// The distsac-worker executable under test: $DISTSAC_AOT_WORKER when set, else published once per test run with
/// deploy/docker/publish.sh aot-worker (the worker image's publish; Native AOT, warnings are errors).
/// </summary>
internal static class AotWorker
{
    private static readonly Lazy<Task<string>> Published = new(PublishAsync);

    public static Task<string> PathAsync() =>
        Environment.GetEnvironmentVariable("DISTSAC_AOT_WORKER") is { Length: > 0 } given ? Task.FromResult(Path.GetFullPath(given)) : Published.Value;

    private static async Task<string> PublishAsync()
    {
        string root = RepositoryRoot();
        string output = Path.Combine(Path.GetTempPath(), "distsac-aot-worker-" + Guid.NewGuid().ToString("N")[..8]);
        var start = new ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "deploy/docker/publish.sh", "aot-worker", output }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        string log = await stdout + await stderr;
        string path = Path.Combine(output, "distsac-worker");
        if (process.ExitCode != 0 || !File.Exists(path))
        {
            throw new InvalidOperationException($"deploy/docker/publish.sh aot-worker failed with exit code {process.ExitCode}:\n{log}");
        }
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DistSac.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No DistSac.sln above {AppContext.BaseDirectory}.");
    }
}
