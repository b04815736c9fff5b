using System.Diagnostics;
using DistSac.Deploy.Tests;

namespace DistSac.Cluster.Tests;

/// <summary>
/// The two CPU images' file systems without Docker: deploy/docker/publish.sh (the script the Dockerfile runs) publishes
/// once into the learner image's directory, and a copy with `strip-torch` applied is the slim image's. Maps the
/// manifests' image names to them. World-readable, like an image layer, so pods can run as UID 1654.
/// </summary>
public sealed class PublishedImages : IDisposable
{
    private readonly DirectoryInfo _root;

    public PublishedImages()
    {
        // Not under /tmp: a pod's /tmp is its own emptyDir, which hides the host's /tmp from it.
        _root = new DirectoryInfo(Path.Combine("/var/tmp", "distsac-images-" + Guid.NewGuid().ToString("N")[..8]));
        _root.Create();
        File.SetUnixFileMode(_root.FullName, (UnixFileMode)0b111_101_101);
        LearnerDirectory = Path.Combine(_root.FullName, "learner");
        SlimDirectory = Path.Combine(_root.FullName, "slim");
        var clock = Stopwatch.StartNew();
        PublishScript("publish", LearnerDirectory, "cpu");
        CopyDirectory(LearnerDirectory, SlimDirectory);
        PublishScript("strip-torch", SlimDirectory);
        PublishSeconds = clock.Elapsed.TotalSeconds;
        Slim = ImageStage.Read(ImageStage.DockerfilePath, "slim");
        Learner = ImageStage.Read(ImageStage.DockerfilePath, "learner");
    }

    public string LearnerDirectory { get; }
    public string SlimDirectory { get; }
    public ImageStage Slim { get; }
    public ImageStage Learner { get; }
    public double PublishSeconds { get; }

    /// <summary>Image reference (as in the manifests, tag included) -> its stage and host directory; null for images not built here.</summary>
    public (ImageStage Stage, string HostDirectory)? For(string image)
    {
        var name = image.Split(':')[0];
        return name switch
        {
            "distsac" => (Slim, SlimDirectory),
            "distsac-learner" => (Learner, LearnerDirectory),
            _ => null,
        };
    }

    public static long DirectorySize(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void PublishScript(params string[] args)
    {
        var script = Path.Combine(RenderedOverlay.RepositoryRoot(), "deploy", "docker", "publish.sh");
        var (code, stdout, stderr) = Tool.Run("bash", [script, .. args]);
        if (code != 0) throw new InvalidOperationException($"publish.sh {string.Join(' ', args)} exited {code}:\n{stdout}\n{stderr}");
    }

    private static void CopyDirectory(string from, string to)
    {
        var (code, _, stderr) = Tool.Run("cp", ["-a", from, to]);
        if (code != 0) throw new InvalidOperationException($"cp -a {from} {to} failed: {stderr}");
    }
}
