using System.Net.Sockets;
using System.Text;

namespace DistSac.Integration.Tests;

/// <summary>
/// `distsac local` makes a token and a Redis password per run and hands them over in the environment only: they are in
/// no child's command line (what `ps` shows every user), no log line, no run file; the shards refuse unauthenticated
/// clients; and the workers, sending the token, still join and push.
/// </summary>
public sealed class LocalClusterSecretsTests : IDisposable
{
    private const int SigTerm = 15;
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-secrets-test-").FullName;

    [Fact]
    public async Task TheTokenAndRedisPassword_AreInNoCommandLineLogOrRunFile_AndWorkersStillPush()
    {
        await using var local = DistSacProcess.Start(
            ["local", "--workers", "2", "--shards", "2", "--steps", "1000000", "--warmup", "200", "--runs-root", _runs, "--run-id", "secrets", "--learner-threads", "1"]);
        var children = await WaitForChildrenAsync(local, 6);
        Assert.True(await local.WaitForOutputAsync("progress: env steps", TimeSpan.FromSeconds(90)), local.Output);
        Assert.True(await local.WaitForOutputAsync("joined run", TimeSpan.FromSeconds(90)), local.Output);
        var environments = children.ToDictionary(pid => pid, pid => Environ(pid));
        var commandLines = children.ToDictionary(pid => pid, pid => File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '));
        var gateway = children.Single(pid => commandLines[pid].Contains(" replay", StringComparison.Ordinal));
        string token = environments[gateway]["DISTSAC_GATEWAY__TOKEN"], password = environments[gateway]["DISTSAC_REPLAY__PASSWORD"];
        var shard = environments[gateway]["DISTSAC_REPLAY__SHARDS__0"].Split(':');
        string unauthenticatedPing = await PingAsync(shard[0], int.Parse(shard[1], System.Globalization.CultureInfo.InvariantCulture));

        local.Signal(SigTerm);
        await local.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(token.Length >= 32 && password.Length >= 32, "distsac local set no token or password");
        Assert.StartsWith("-NOAUTH", unauthenticatedPing, StringComparison.Ordinal);
        foreach (var (pid, cmdline) in commandLines)
        {
            Assert.DoesNotContain(token, cmdline, StringComparison.Ordinal);
            Assert.DoesNotContain(password, cmdline, StringComparison.Ordinal);
        }
        Assert.Equal(token, environments.Values.Single(e => e.GetValueOrDefault("DISTSAC_WORKER__WORKERID") == "worker-0")["DISTSAC_WORKER__TOKEN"]);
        Assert.Contains("joined run", local.Output, StringComparison.Ordinal); // workers got RunInfo with the token ...
        Assert.DoesNotContain("Refused", local.Output, StringComparison.Ordinal); // ... and no call was refused
        var files = Directory.GetFiles(Path.Combine(_runs, "secrets"), "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => Path.GetFileName(f) == "config.json");
        foreach (var text in files.Select(File.ReadAllText).Append(local.Output))
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        }
    }

    private static async Task<List<int>> WaitForChildrenAsync(DistSacProcess local, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var children = DistSacProcess.ChildrenOf(local.Pid);
            if (children.Count >= count) return children;
            await Task.Delay(200);
        }
        throw new TimeoutException($"expected {count} children; output:\n{local.Output}");
    }

    private static Dictionary<string, string> Environ(int pid)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) variables[entry[..eq]] = entry[(eq + 1)..];
        }
        return variables;
    }

    /// <summary>A PING with no AUTH, as any local process could send: the reply line.</summary>
    private static async Task<string> PingAsync(string host, int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[256];
        int n = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    public void Dispose()
    {
        try { Directory.Delete(_runs, recursive: true); } catch (IOException) { }
    }
}
