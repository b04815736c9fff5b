using System.CommandLine;
using DistSac.Cli.Configuration;
using DistSac.Gateway;
using DistSac.Observability;
using DistSac.Replay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace DistSac.Cli.Commands;

/// <summary>`distsac replay`: the replay gateway role (gRPC in front of the Redis shards); runs until SIGTERM / Ctrl-C.</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var flags = new List<ConfigFlag>
        {
            new("--listen", "Gateway:Listen", "gRPC listen address (default http://127.0.0.1:50051, this machine only; http://0.0.0.0:50051 for every interface, which needs a token; https:// serves TLS with --tls-cert-file; port 0 picks a free one).", typeof(string)),
            new("--tls-cert-file", "Gateway:TlsCertFile", "PEM certificate (leaf, then intermediates) for an https:// --listen; re-read when it changes.", typeof(string)),
            new("--tls-key-file", "Gateway:TlsKeyFile", "PEM private key of --tls-cert-file.", typeof(string)),
            new("--tls-client-ca-file", "Gateway:TlsClientCaFile", "PEM CA: require client certificates issued by it (mutual TLS; default off).", typeof(string)),
            new("--http-listen", "Gateway:HttpListen", "HTTP/1.1 address for /healthz, /readyz and /metrics, e.g. http://127.0.0.1:9090, or http://0.0.0.0:9090 for a scraper on another machine (default off).", typeof(string)),
            new("--max-hold-ms", "Gateway:MaxHoldMs", "Longest a push is held before ResourceExhausted (0 = until allowed or the call's deadline, the default).", typeof(int)),
            new("--progress-reconcile-ms", "Gateway:ProgressReconcileMs", "Held pushes wake on the learner's progress messages; without one they re-read progress after this long (default 1000).", typeof(int)),
            new("--weights-reconcile-ms", "Gateway:WeightsReconcileMs", "Re-check of the published weights version in case pub/sub lost one (default 1000).", typeof(int)),
            new("--status-log-interval-ms", "Gateway:StatusLogIntervalMs", "Interval of the counters log line (default 10000; 0 = off).", typeof(int)),
            new("--run-id", "Replay:RunId", "Run id; Redis keys are distsac:<run>:... (default 'default').", typeof(string)),
            new("--capacity-per-shard", "Replay:CapacityPerShard", "Ring capacity of each shard in transitions (the learner's value).", typeof(long)),
            SecretFlags.RedisPasswordFile(),
            new("--connect-timeout-ms", "Replay:ConnectTimeoutMs", "Redis connect timeout (default 5000).", typeof(int)),
            new("--log-level", "Logging:LogLevel:Default", "Trace, Debug, Information (default), Warning or Error.", typeof(string)),
        };
        var config = CommonFlags.ConfigFile();
        var shards = CommonFlags.Shards();
        var command = new Command("replay", "Run the replay gateway: validates pushed transitions into the Redis shards, streams weights, holds pushes while workers run ahead.")
        {
            config, shards,
        };
        foreach (var f in flags) command.Options.Add(f.Option);
        command.Options.Add(SecretFlags.RefusedRedisPassword());
        // The learner owns the rate limiter: the old gateway flags stay only to be refused with the learner setting to use.
        var retired = new List<ConfigFlag>
        {
            new("--rate-limit", "Gateway:RateLimit", "Retired: set the learner's --updates-per-transition.", typeof(double)),
            new("--rate-limit-tolerance", "Gateway:RateLimitTolerance", "Retired: set the learner's --rate-limit-tolerance.", typeof(double)),
            new("--rate-limit-min-transitions", "Gateway:RateLimitMinTransitions", "Retired: the learner's warm-up sets it.", typeof(long)),
        };
        foreach (var f in retired)
        {
            f.Option.Hidden = true;
            command.Options.Add(f.Option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            ConfigFlag.Collect(parse, retired, overrides);
            CommonFlags.CollectShards(parse, shards, overrides);
            var configuration = DistSacConfiguration.Build(parse.GetValue(config), new Dictionary<string, string?>(), overrides);
            RetiredGatewaySettings.Refuse(configuration);
            var gateway = DistSacConfiguration.Bind<GatewayOptions>(configuration, GatewayOptions.Section);
            var replay = DistSacConfiguration.Bind<ReplayOptions>(configuration, "Replay");
            if (CommonFlags.BindList(configuration, "Replay:Shards") is { } endpoints) replay = replay with { Shards = endpoints };

            using var loggerFactory = RoleLogging.Create("gateway", b => b
                .AddConfiguration(configuration.GetSection("Logging"))
                .AddFilter("Microsoft", LogLevel.Warning) // Kestrel and host chatter; the gateway logs its own address
                .AddFilter("Grpc", LogLevel.Warning)); // a held push cancelled at shutdown is expected, not news
            try
            {
                await GatewayHost.RunAsync(gateway, replay, loggerFactory, ct);
                return 0;
            }
            catch (ArgumentException e)
            {
                // A bad setting: the message names the key and the accepted values.
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is ReplayUnavailableException or IOException)
            {
                // An unreachable shard or a port in use: one line naming it, not a stack trace. A missing file or
                // directory (e.g. a working directory that vanished) says only the path, so name the kind too.
                var what = e is FileNotFoundException or DirectoryNotFoundException ? $"{e.GetType().Name}: " : "";
                await Console.Error.WriteLineAsync($"error: {what}{e.Message}");
                return 1;
            }
        });
        return command;
    }
}
