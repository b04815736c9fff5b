using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench gateway-idle`: a gateway process's CPU ingesting ~1k transitions/s, with every push held and with
/// no client, plus its start-up and warm-up CPU (<see cref="GatewayIdleBenchmark"/>); optionally a second gateway with
/// extra environment variables measured on the same load. One JSON line per gateway.
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command GatewayIdle()
    {
        var clients = Opt("--clients", 8, "Concurrent gRPC clients, each a worker id with one push at a time.");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each of the three phases.");
        var warmUp = Opt("--warm-up-seconds", 15.0, "Untimed ingest first, so the JIT's tiered recompilation is over before anything is timed.");
        var rate = Opt("--rate", 1000.0, "Transitions/s offered in the ingest phase, over all clients.");
        var batch = Opt("--batch", 50, "Transitions per push.");
        var compare = Opt("--compare-env", "", "Comma-separated NAME=VALUE pairs: measure a second gateway started with these variables too (e.g. DOTNET_TieredPGO=1).");
        var command = new Command("gateway-idle", "Gateway CPU (cores) ingesting ~1k transitions/s, with every push held, and with no client; start-up and warm-up CPU too.")
        {
            clients, seconds, warmUp, rate, batch, compare,
        };
        command.SetAction(async (parse, ct) =>
        {
            int n = Positive(parse.GetValue(clients), "--clients"), b = Batch(parse.GetValue(batch), "--batch");
            double offered = parse.GetValue(rate);
            if (!(offered > 0) || double.IsInfinity(offered)) throw new ArgumentException($"--rate must be > 0 (got {offered}).");
            var settings = new GatewayIdleSettings(Self(), n, b, offered, Seconds(parse.GetValue(seconds), "--seconds"),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))), GatewayIdleBenchmark.ParseEnvPairs(parse.GetValue(compare) ?? "", "--compare-env"));
            await GatewayIdleBenchmark.RunAsync(settings, r => Console.Out.WriteLine(r.ToJson()), ct);
            return 0;
        });
        return command;
    }
}
