using System.Diagnostics;
using System.Security.Cryptography;

namespace DistSac.Deploy.Tests;

/// <summary>
/// The Redis container's rendered command, run for real with this machine's redis-server: the password comes from the
/// mounted Secret file, reaches redis-server through a generated config file of mode 0600, and never appears in the
/// process's argv or environment. The paths of the volumes are swapped for a temp directory (the Secret file, the
/// config emptyDir, /data), and the port for a Unix socket so nothing is bound.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // /proc, sh, redis-server
public sealed class RedisPasswordFileTests : IDisposable
{
    private const string Owner = "StatefulSet/distsac-redis";
    private readonly string _dir = Directory.CreateTempSubdirectory("distsac-redis-pod-").FullName;
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public async Task Redis_gets_its_password_from_the_secret_file_and_never_on_its_command_line_or_environment(string overlay)
    {
        using var redis = Start(RenderedOverlay.Load(overlay), _password);
        try
        {
            await WaitForAsync(() => Cli(_password, "ping").Stdout.Trim() == "PONG", redis, "PING with the password from the Secret file");

            var cmdline = File.ReadAllText($"/proc/{redis.Id}/cmdline");
            var environ = File.ReadAllText($"/proc/{redis.Id}/environ");
            Assert.StartsWith("redis-server", cmdline, StringComparison.Ordinal); // the shell exec'd: the container's PID is redis-server
            Assert.DoesNotContain(_password, cmdline, StringComparison.Ordinal);
            Assert.DoesNotContain(_password, environ, StringComparison.Ordinal);
            Assert.Contains("NOAUTH", Cli(null, "ping").Stdout + Cli(null, "ping").Stderr, StringComparison.Ordinal);
            Assert.Contains("WRONGPASS", Cli("not-" + _password, "ping").Stdout + Cli("not-" + _password, "ping").Stderr, StringComparison.Ordinal);

            var conf = Path.Combine(_dir, "config", "redis.conf");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(conf));
            Assert.Equal($"requirepass {_password}\n", await File.ReadAllTextAsync(conf));
        }
        finally
        {
            redis.Kill();
        }
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("quote\"d")]
    [InlineData("back\\slash")]
    [InlineData("")]
    public async Task A_password_redis_conf_cannot_carry_stops_the_container_with_a_message_naming_the_secret(string password)
    {
        using var redis = Start(RenderedOverlay.Load("cpu"), password);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await redis.WaitForExitAsync(timeout.Token);
        var stderr = await redis.StandardError.ReadToEndAsync(timeout.Token);

        Assert.Equal(1, redis.ExitCode);
        Assert.Contains("Secret distsac-replay, key password", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "config", "redis.conf")), "a config file was written for a refused password");
        if (password.Length > 0) Assert.DoesNotContain(password, stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void The_readiness_probe_passes_the_password_to_redis_cli_in_its_environment_not_as_an_argument(string overlay)
    {
        var container = ManifestWiringTests.Container(RenderedOverlay.Load(overlay), Owner);
        var probe = string.Join(' ', container.ReadinessProbe.Exec.Command);

        Assert.Contains("REDISCLI_AUTH=", probe, StringComparison.Ordinal);
        Assert.Contains("$REDIS_PASSWORD_FILE", probe, StringComparison.Ordinal);
        Assert.DoesNotContain(" -a ", probe, StringComparison.Ordinal);
        Assert.DoesNotContain("--pass", probe, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The container's command and args as the kubelet would exec them, with the Secret volume, the config emptyDir and
    /// /data moved under the temp directory and `--port 6379` replaced by a Unix socket there.
    /// </summary>
    private Process Start(RenderedOverlay overlay, string password)
    {
        var container = ManifestWiringTests.Container(overlay, Owner);
        var template = overlay.PodTemplates().Single(t => t.Owner == Owner).Template;
        var volumes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mount in container.VolumeMounts)
        {
            var dir = Directory.CreateDirectory(Path.Combine(_dir, mount.Name)).FullName;
            volumes[mount.MountPath] = dir;
            if (template.Spec.Volumes.SingleOrDefault(v => v.Name == mount.Name)?.Secret is { } secret)
            {
                Assert.Equal("distsac-replay", secret.SecretName);
                foreach (var item in secret.Items.Where(i => i.Key == "password")) File.WriteAllText(Path.Combine(dir, item.Path), password);
            }
        }

        var psi = new ProcessStartInfo(container.Command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var argv = container.Command.Skip(1).Concat(container.Args).Select(a => Moved(a, volumes)).ToList();
        argv[argv.IndexOf("--port") + 1] = "0";
        argv.AddRange(["--unixsocket", Socket, "--unixsocketperm", "700"]);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var e in container.Env ?? [])
        {
            Assert.Null(e.ValueFrom); // no secret as an environment variable
            psi.Environment[e.Name] = Moved(e.Value, volumes);
        }
        return Process.Start(psi)!;
    }

    private string Socket => Path.Combine(_dir, "redis.sock");

    private static string Moved(string value, Dictionary<string, string> volumes)
    {
        foreach (var (mountPath, dir) in volumes)
        {
            if (value == mountPath) return dir;
            if (value.StartsWith(mountPath + "/", StringComparison.Ordinal)) return dir + value[mountPath.Length..];
        }
        return value;
    }

    /// <summary>redis-cli on the socket; the password (if any) through REDISCLI_AUTH, as the probe passes it.</summary>
    private (string Stdout, string Stderr) Cli(string? password, params string[] command)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])["-s", Socket, .. command]) psi.ArgumentList.Add(a);
        if (password is not null) psi.Environment["REDISCLI_AUTH"] = password;
        using var cli = Process.Start(psi)!;
        var stderr = cli.StandardError.ReadToEndAsync();
        var stdout = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return (stdout, stderr.GetAwaiter().GetResult());
    }

    private static async Task WaitForAsync(Func<bool> done, Process redis, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (redis.HasExited) Assert.Fail($"redis exited ({redis.ExitCode}) before {what}: {await redis.StandardError.ReadToEndAsync()}{await redis.StandardOutput.ReadToEndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail($"no {what} within 10 s");
            await Task.Delay(50);
        }
    }
}
