using System.Globalization;
using System.Text.Json;
using DistSac.Testing;

namespace DistSac.Images.Tests;

/// <summary>
/// The Native AOT worker image (Dockerfile target worker-aot, built by build-images.sh): one executable on the
/// runtime-deps base, no .NET runtime and no libtorch, run as UID 1654.
/// </summary>
[Collection(BuiltImagesCollection.Name)]
[Trait("Category", "Images")]
public sealed class AotWorkerImageTests
{
    public const string WorkerAot = "distsac/distsac-worker:0.1.0";

    [Fact]
    public async Task Aot_worker_image_holds_one_executable_and_no_dotnet_runtime()
    {
        var config = JsonDocument.Parse(await Podman.CheckedAsync("image", "inspect", "--format", "{{json .Config}}", WorkerAot)).RootElement;
        Assert.Equal("1654:1654", config.GetProperty("User").GetString());
        Assert.Equal("/app/distsac-worker", string.Join(" ", config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString())));
        var size = long.Parse(await Podman.CheckedAsync("image", "inspect", "--format", "{{.Size}}", WorkerAot), CultureInfo.InvariantCulture);
        Assert.True(size <= 40_000_000, $"{WorkerAot} is {size / 1e6:F1} MB; measured 28.2 MB (docs/benchmarks.md)");

        string container = (await Podman.CheckedAsync("create", WorkerAot)).Trim();
        string archive = Path.Combine(Path.GetTempPath(), $"distsac-worker-aot-{Guid.NewGuid():N}.tar");
        try
        {
            // The image's file list: /app holds the executable only; no libcoreclr, no assemblies, no libtorch anywhere.
            await Podman.CheckedAsync("export", "-o", archive, container);
            var files = new List<string>();
            await using (var tar = new System.Formats.Tar.TarReader(File.OpenRead(archive)))
            {
                while (await tar.GetNextEntryAsync() is { } entry) files.Add(entry.Name.TrimStart('.', '/'));
            }
            Assert.Equal(new[] { "app/distsac-worker" }, files.Where(f => f.StartsWith("app/", StringComparison.Ordinal) && !f.EndsWith('/')).ToArray());
            Assert.DoesNotContain(files, f => f.Contains("libcoreclr", StringComparison.Ordinal) || f.EndsWith(".dll", StringComparison.Ordinal) || f.Contains("libtorch", StringComparison.Ordinal));
        }
        finally
        {
            await Podman.CheckedAsync("rm", container);
            File.Delete(archive);
        }
    }

    [Fact]
    public async Task Aot_worker_image_answers_help_and_refuses_a_bad_setting_with_exit_code_2()
    {
        string[] confined = ["run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL"];
        var (code, stdout, stderr) = await Podman.RunAsync([.. confined, WorkerAot, "--help"], TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"{WorkerAot} --help exited {code}: {stderr}");
        Assert.Contains("--gateway", stdout);

        // A flag, not only the variable: without arguments the image's CMD is --help, which exits 0 before validation.
        (code, _, stderr) = await Podman.RunAsync([.. confined, WorkerAot, "--envs", "0"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, code);
        Assert.Contains("Worker:Envs", stderr);
    }
}
