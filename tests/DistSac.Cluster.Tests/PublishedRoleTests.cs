using System.Diagnostics;
using Xunit.Abstractions;

namespace DistSac.Cluster.Tests;

/// <summary>
/// Each role started from the publish the images hold (deploy/docker/publish.sh, slim = publish minus libtorch), as
/// the images run it: UID/GID 1654, a clean environment with the image's ENV, HOME in a scratch directory (so no
/// NuGet cache can supply the libtorch the slim image lacks).
/// </summary>
[Collection(PublishedImagesCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class PublishedRoleTests(PublishedImages images, ITestOutputHelper output) : IDisposable
{
    private readonly List<string> _scratch = [];

    public void Dispose()
    {
        foreach (var dir in _scratch)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public void Slim_image_holds_no_libtorch_and_every_torch_free_role_starts_from_it()
    {
        var torch = Directory.EnumerateFiles(images.SlimDirectory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("libtorch", StringComparison.Ordinal) || n.StartsWith("libc10", StringComparison.Ordinal) || n.StartsWith("libLibTorchSharp", StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(torch);
        Assert.Contains(Directory.EnumerateFiles(images.LearnerDirectory), f => Path.GetFileName(f).StartsWith("libtorch_cpu", StringComparison.Ordinal));
        output.WriteLine($"publish: learner image files {PublishedImages.DirectorySize(images.LearnerDirectory) / 1e6:F1} MB, slim {PublishedImages.DirectorySize(images.SlimDirectory) / 1e6:F1} MB");

        foreach (var args in new[] { new[] { "--help" }, ["worker", "--help"], ["replay", "--help"], ["eval", "--help"], ["config"] })
        {
            var (code, stdout, stderr) = Run(images.Slim, images.SlimDirectory, args);
            Assert.True(code == 0, $"slim `distsac {string.Join(' ', args)}` exited {code}: {stderr}");
            Assert.False(string.IsNullOrWhiteSpace(stdout));
        }
    }

    [Fact]
    public void Learner_image_trains_and_the_slim_image_evaluates_what_it_wrote()
    {
        var runs = Scratch();
        var (code, stdout, stderr) = Run(images.Learner, images.LearnerDirectory,
            ["train", "--env", "Pendulum-v1", "--steps", "400", "--learning-starts", "100", "--eval-interval", "400", "--eval-episodes", "1",
             "--threads", "1", "--runs-root", runs, "--run-id", "smoke"]);
        Assert.True(code == 0, $"learner image `train` exited {code}:\n{stdout}\n{stderr}");
        // 400 steps with 100 uniform warm-up steps: about 300 gradient updates ran on the image's libtorch.
        var updates = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) updates in");
        Assert.True(updates.Success && int.Parse(updates.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 250, stdout);
        var actor = Path.Combine(runs, "smoke", "checkpoint", "actor.dsac");
        Assert.True(File.Exists(actor), stdout);

        (code, stdout, stderr) = Run(images.Slim, images.SlimDirectory, ["eval", "--checkpoint", actor, "--env", "Pendulum-v1", "--episodes", "2"]);
        Assert.True(code == 0, $"slim image `eval` exited {code}:\n{stdout}\n{stderr}");
        Assert.Contains("mean", stdout);
        output.WriteLine(stdout);
    }

    [Fact]
    public void Slim_image_refuses_torch_roles_with_an_actionable_error()
    {
        var (code, stdout, stderr) = Run(images.Slim, images.SlimDirectory, ["train", "--steps", "10", "--runs-root", Scratch()]);
        Assert.Equal(3, code);
        Assert.Contains("distsac-learner image", stderr);
        Assert.DoesNotContain("Unhandled exception", stdout + stderr);
    }

    /// <summary>A scratch directory the image user may write to.</summary>
    private string Scratch()
    {
        var dir = Directory.CreateTempSubdirectory("distsac-published-").FullName;
        _scratch.Add(dir);
        Tool("chown", "1654:1654", dir);
        return dir;
    }

    private (int Code, string Stdout, string Stderr) Run(ImageStage image, string appDirectory, string[] args)
    {
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Scratch(),
        };
        foreach (var a in (string[])[$"--reuid={image.Uid}", $"--regid={image.Gid}", "--clear-groups", "--no-new-privs", "--",
                     image.Entrypoint[0].Replace(image.AppDirectory, appDirectory, StringComparison.Ordinal), .. image.Entrypoint.Skip(1), .. args])
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["HOME"] = psi.WorkingDirectory;
        foreach (var (k, v) in image.Env) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) process.Kill();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
    }

    private static void Tool(string file, params string[] args)
    {
        var (code, _, stderr) = DistSac.Deploy.Tests.Tool.Run(file, args);
        if (code != 0) throw new InvalidOperationException($"{file} failed: {stderr}");
    }
}
