using System.Text.Json;
using DistSac.Testing;
using Xunit.Abstractions;

namespace DistSac.Images.Tests;

/// <summary>What the built images are: their user, entrypoint and size, and the commands each runs as a container.</summary>
[Collection(BuiltImagesCollection.Name)]
[Trait("Category", "Images")]
public sealed class ImageTests(BuiltImages images, ITestOutputHelper output)
{
    private static readonly string[] Confined = ["run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp:rw,mode=1777,size=64m", "--cap-drop", "ALL"];

    [Theory]
    [InlineData(BuiltImages.Slim)]
    [InlineData(BuiltImages.Learner)]
    public async Task Image_runs_distsac_as_uid_1654(string image)
    {
        var config = JsonDocument.Parse(await Podman.CheckedAsync("image", "inspect", "--format", "{{json .Config}}", image)).RootElement;
        Assert.Equal("1654:1654", config.GetProperty("User").GetString());
        Assert.Equal("/app/distsac", string.Join(" ", config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString())));
        var size = long.Parse(await Podman.CheckedAsync("image", "inspect", "--format", "{{.Size}}", image), System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"{image}: {size / 1e6:F1} MB; build-images.sh took {images.BuildSeconds:F0} s:\n{images.BuildLog}");

        var (code, stdout, stderr) = await Podman.RunAsync([.. Confined, image, "--help"], TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"{image} --help exited {code}: {stderr}");
        Assert.Contains("worker", stdout);
    }

    [Fact]
    public async Task Slim_image_is_at_most_80_MB_and_holds_no_libtorch()
    {
        var size = long.Parse(await Podman.CheckedAsync("image", "inspect", "--format", "{{.Size}}", BuiltImages.Slim), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(size <= 80_000_000, $"{BuiltImages.Slim} is {size / 1e6:F1} MB; the goal is 80 MB (docs/benchmarks.md)");
        // No libtorch: `train` stops at TorchSharp's native load with the error that points at the learner image.
        var (code, stdout, stderr) = await Podman.RunAsync([.. Confined, BuiltImages.Slim, "train", "--steps", "10", "--runs-root", "/tmp/runs"], TimeSpan.FromMinutes(1));
        Assert.True(code == 3, $"slim `train` exited {code}:\n{stdout}\n{stderr}");
        Assert.Contains("distsac-learner image", stderr);
        Assert.DoesNotContain("Unhandled exception", stdout + stderr);
    }

    [Theory]
    [InlineData("worker", "--help")]
    [InlineData("replay", "--help")]
    [InlineData("eval", "--help")]
    [InlineData("config")]
    public async Task Slim_image_runs_each_torch_free_command(params string[] args)
    {
        var (code, stdout, stderr) = await Podman.RunAsync([.. Confined, BuiltImages.Slim, .. args], TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"slim `distsac {string.Join(' ', args)}` exited {code}: {stderr}");
        Assert.Contains(args[0] == "config" ? "DISTSAC_WORKER__GATEWAY" : "Usage:", stdout);
    }

    [Fact]
    public async Task Learner_image_trains_into_a_volume_and_the_slim_image_evaluates_the_actor()
    {
        await using var scope = await ContainerScope.CreateAsync();
        var runs = scope.Directory("runs", ownedByImageUser: true);
        var (code, stdout, stderr) = await Podman.RunAsync(
            [.. Confined, "--volume", $"{runs}:/data/runs", BuiltImages.Learner,
             "train", "--env", "Pendulum-v1", "--steps", "400", "--learning-starts", "100", "--eval-interval", "400", "--eval-episodes", "1",
             "--threads", "1", "--runs-root", "/data/runs", "--run-id", "smoke"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"learner image `train` exited {code}:\n{stdout}\n{stderr}");
        // 400 steps after 100 uniform warm-up steps: about 300 gradient updates ran on the image's libtorch.
        var updates = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) updates in");
        Assert.True(updates.Success && int.Parse(updates.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 250, stdout);
        Assert.True(File.Exists(Path.Combine(runs, "smoke", "checkpoint", "actor.dsac")), stdout);

        (code, stdout, stderr) = await Podman.RunAsync(
            [.. Confined, "--volume", $"{runs}:/data/runs:ro", BuiltImages.Slim,
             "eval", "--checkpoint", "/data/runs/smoke/checkpoint/actor.dsac", "--env", "Pendulum-v1", "--episodes", "2"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"slim image `eval` exited {code}:\n{stdout}\n{stderr}");
        Assert.Contains("mean", stdout);
    }
}
