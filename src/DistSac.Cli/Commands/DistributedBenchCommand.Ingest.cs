using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>`distsac bench ingest`: N gRPC clients through a real in-process gateway into S shards, then the Redis baselines (<see cref="IngestBenchmark"/>).</summary>
public static partial class DistributedBenchCommand
{
    private static Command Ingest()
    {
        var clients = Opt("--clients", 4, "Concurrent gRPC clients (N), each a worker id pushing one batch at a time.");
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var seconds = Opt("--seconds", 10.0, "Timed duration (also of the direct-insert baseline).");
        var batch = Opt("--batch", 256, "Transitions per push.");
        var warmUp = Opt("--warm-up-seconds", 1.0, "Untimed pushing first, so the JIT and connections settle.");
        var command = new Command("ingest", "Transitions/s from N gRPC clients through an in-process gateway into S shards, with Redis baselines.")
        {
            clients, shards, seconds, batch, warmUp,
        };
        command.SetAction(async (parse, ct) =>
        {
            var settings = new IngestSettings(
                Clients: Positive(parse.GetValue(clients), "--clients"),
                Shards: Positive(parse.GetValue(shards), "--shards"),
                Batch: Batch(parse.GetValue(batch), "--batch"),
                Duration: Seconds(parse.GetValue(seconds), "--seconds"),
                WarmUp: TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))));
            var result = await IngestBenchmark.RunAsync(settings, ct);
            Console.Out.WriteLine(result.ToJson());
            return result.StoredVerified ? 0 : 1;
        });
        return command;
    }
}
