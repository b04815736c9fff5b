using System.Globalization;
using DistSac.Testing;

namespace DistSac.Images.Tests;

/// <summary>
/// The containers of one test and the podman network they share, created by the test and removed with it. The network
/// is internal (no route off this machine): containers reach each other and the host reaches them by address.
/// Every container runs as the manifests run it: the image's user, read-only root with a tmpfs /tmp, no capabilities,
/// no privilege escalation.
/// </summary>
public sealed class ContainerScope : IAsyncDisposable
{
    private readonly List<string> _containers = [];
    private readonly List<string> _directories = [];

    private ContainerScope(string id, string network)
    {
        Id = id;
        Network = network;
    }

    public string Id { get; }
    public string Network { get; }

    public static async Task<ContainerScope> CreateAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var network = "distsac-img-" + id;
        await Podman.CheckedAsync("network", "create", "--internal", "--label", "distsac.test=" + id, network);
        return new ContainerScope(id, network);
    }

    /// <summary>A host directory for a bind mount, owned by the images' user (UID/GID 1654).</summary>
    public string Directory(string name, bool ownedByImageUser)
    {
        var path = Path.Combine("/var/tmp", $"distsac-img-{Id}-{name}");
        System.IO.Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        if (ownedByImageUser) Chown(path, 1654, 1654);
        _directories.Add(path);
        return path;
    }

    /// <summary>Starts a detached container; its name is <c>{Network}-{name}</c>, which is also its DNS name.</summary>
    public async Task<string> StartAsync(string name, string image, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string>? env = null, IReadOnlyList<string>? extra = null)
    {
        var container = $"{Network}-{name}";
        var argv = new List<string>
        {
            "run", "-d", "--name", container, "--network", Network, "--network-alias", name, "--label", "distsac.test=" + Id,
            "--read-only", "--tmpfs", "/tmp:rw,mode=1777,size=64m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        };
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) argv.AddRange(["--env", $"{key}={value}"]);
        if (extra is not null) argv.AddRange(extra);
        argv.Add(image);
        argv.AddRange(args);
        _containers.Add(container);
        await Podman.CheckedAsync([.. argv]);
        return container;
    }

    public static async Task<string> AddressAsync(string container, string network)
    {
        var address = await Podman.CheckedAsync("inspect", "--format", $"{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}", container);
        if (System.Net.IPAddress.TryParse(address, out _)) return address;
        var state = await Podman.CheckedAsync("inspect", "--format", "{{.State.Status}} exit {{.State.ExitCode}}", container);
        throw new InvalidOperationException($"{container} has no address on {network} ('{address}'; {state}):\n{await LogsAsync(container)}");
    }

    /// <summary>UID and GID the container's main process runs as, read from /proc on the host.</summary>
    public static async Task<(long Uid, long Gid)> ProcessIdsAsync(string container)
    {
        var pid = await Podman.CheckedAsync("inspect", "--format", "{{.State.Pid}}", container);
        long uid = -1, gid = -1;
        foreach (var line in File.ReadAllLines($"/proc/{pid}/status"))
        {
            // "Uid:\treal\teffective\tsaved\tfs"
            if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = long.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
            if (line.StartsWith("Gid:", StringComparison.Ordinal)) gid = long.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
        }
        return (uid, gid);
    }

    public static async Task<bool> IsRunningAsync(string container) =>
        await Podman.CheckedAsync("inspect", "--format", "{{.State.Running}}", container) == "true";

    public static async Task<string> LogsAsync(string container)
    {
        var (_, stdout, stderr) = await Podman.RunAsync(["logs", container], TimeSpan.FromSeconds(30));
        return stdout + stderr;
    }

    /// <summary>
    /// For a failure message: each container's state and the last lines of its log, the stopped ones last, so that a
    /// CI log that keeps only the end of the output still shows the container that died and why.
    /// </summary>
    public static async Task<string> DiagnosticsAsync(IEnumerable<string> containers, int tailLines = 40)
    {
        var running = new List<string>();
        var stopped = new List<string>();
        foreach (var container in containers)
        {
            var state = await Podman.CheckedAsync("inspect", "--format", "{{.State.Status}} exit={{.State.ExitCode}}", container);
            var lines = (await LogsAsync(container)).TrimEnd().Split('\n');
            var tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - tailLines)));
            var text = $"--- {container} ({state}; last {Math.Min(tailLines, lines.Length)} of {lines.Length} log lines):\n{tail}";
            (await IsRunningAsync(container) ? running : stopped).Add(text);
        }
        return string.Join('\n', running.Concat(stopped));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var container in _containers)
            await Podman.RunAsync(["rm", "--force", "--time", "0", container], TimeSpan.FromMinutes(1));
        await Podman.RunAsync(["network", "rm", "--force", Network], TimeSpan.FromMinutes(1));
        foreach (var path in _directories)
        {
            try
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void Chown(string path, int uid, int gid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [$"{uid}:{gid}", path]);
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new IOException($"chown {uid}:{gid} {path} exited {chown.ExitCode}");
    }
}
