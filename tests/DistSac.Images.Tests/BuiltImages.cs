using System.Diagnostics;

namespace DistSac.Images.Tests;

/// <summary>
/// The images as `make images` builds them (deploy/docker/build-images.sh with its default names), built once per test
/// run; the script reuses images whose inputs did not change, so a second run costs seconds.
/// </summary>
public sealed class BuiltImages
{
    public const string Slim = "distsac/distsac:0.1.0";
    public const string Learner = "distsac/distsac-learner:0.1.0";

    public BuiltImages()
    {
        var script = Path.Combine(RepositoryRoot(), "deploy", "docker", "build-images.sh");
        var clock = Stopwatch.StartNew();
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        // podman even where a Docker daemon answers: these tests drive podman.
        psi.Environment["DISTSAC_IMAGES_ENGINE"] = "podman";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start bash.");
        var stderr = process.StandardError.ReadToEndAsync();
        BuildLog = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(20)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("deploy/docker/build-images.sh ran past 20 minutes.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"deploy/docker/build-images.sh exited {process.ExitCode}:\n{BuildLog}\n{stderr.GetAwaiter().GetResult()}");
        BuildSeconds = clock.Elapsed.TotalSeconds;
    }

    public string BuildLog { get; }
    public double BuildSeconds { get; }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DistSac.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"No DistSac.sln above {AppContext.BaseDirectory}.");
    }
}

[CollectionDefinition(Name)]
public sealed class BuiltImagesCollection : ICollectionFixture<BuiltImages>
{
    public const string Name = "Built images";
}
