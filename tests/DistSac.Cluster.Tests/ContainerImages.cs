using System.Diagnostics;
using DistSac.Deploy.Tests;

namespace DistSac.Cluster.Tests;

/// <summary>
/// The images the manifests name, as built on this machine: deploy/docker/build-images.sh (what `make images` runs; it
/// reuses images whose inputs did not change) for distsac and distsac-learner, and build-redis-image.sh (next to this file)
/// for a stand-in of the upstream redis image (no registry is reachable here). Maps a manifest's image reference to
/// the local image, as a kustomize `images:` override would in a real cluster.
/// </summary>
public sealed class ContainerImages
{
    /// <summary>The REGISTRY build-images.sh tags with by default (`make images`).</summary>
    private const string Registry = "distsac";

    public ContainerImages()
    {
        var clock = Stopwatch.StartNew();
        BuildLog = Script("deploy/docker/build-images.sh");
        RedisImage = Script("tests/DistSac.Cluster.Tests/build-redis-image.sh").Trim().Split('\n')[^1];
        BuildSeconds = clock.Elapsed.TotalSeconds;
    }

    public string RedisImage { get; }

    /// <summary>What build-images.sh printed: whether it rebuilt, the sizes.</summary>
    public string BuildLog { get; }
    public double BuildSeconds { get; }

    /// <summary>The local image for a manifest's image reference (distsac:TAG, distsac-learner:TAG, redis:TAG).</summary>
    public string For(string manifestImage)
    {
        var (name, tag) = manifestImage.Split(':') is [var n, var t] ? (n, t) : (manifestImage, "latest");
        return name switch
        {
            "distsac" or "distsac-learner" => $"localhost/{Registry}/{name}:{tag}",
            "redis" => RedisImage,
            _ => throw new NotSupportedException($"image '{manifestImage}' is not built on this machine (distsac, distsac-learner and redis are)"),
        };
    }

    private static string Script(string name)
    {
        var script = Path.Combine(RenderedOverlay.RepositoryRoot(), name);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        // podman even where a Docker daemon answers: the run drives podman.
        psi.Environment["DISTSAC_IMAGES_ENGINE"] = "podman";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start bash.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(20)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} ran past 20 minutes.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{name} exited {process.ExitCode}:\n{stdout}\n{stderr.GetAwaiter().GetResult()}");
        return stdout;
    }
}

[CollectionDefinition(Name)]
public sealed class ContainerImagesCollection : ICollectionFixture<ContainerImages>
{
    public const string Name = "container images";
}
