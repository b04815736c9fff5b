using System.CommandLine;
using DistSac.Learning;
using DistSac.Learning.Benchmarks;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench sample|ingest|e2e|scale|gateway-idle|local`: the replay, gateway and whole-system benchmarks. The
/// harnesses live in DistSac.Bench (one class per benchmark); these commands declare the flags, check their values,
/// call the harness and print its one JSON line. Progress and child output go to stderr.
/// </summary>
public static partial class DistributedBenchCommand
{
    public static IEnumerable<Command> Create() => [Sample(), Ingest(), EndToEnd(), Scale(), GatewayIdle(), LocalVsLearner()];

    private static Command Sample()
    {
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each of the three sampling measurements.");
        var fill = Opt("--fill", 200_000L, "Random Pendulum records stored first (spread over the shards).");
        var concurrency = Opt("--concurrency", 16, "Concurrent SampleAsync callers, and the prefetcher's sampling loops.");
        var warmUp = Opt("--warm-up-seconds", 1.0, "Untimed sampling first, so the JIT reaches optimised code.");
        var learnerSeconds = Opt("--learner-seconds", 10.0, "Duration of the `bench learner` run whose update rate the sampling CPU share is taken at (0 skips it).");
        var learnerThreads = Opt("--learner-threads", 0, "Torch threads of that learner run (0 = all cores).");
        var command = new Command("sample",
            $"Batches of {SampleBenchmark.Batch} per second from S shards: from Redis (direct and through the prefetcher) and from the learner's mirror, " +
            "with the client CPU per batch, the mirror's refill rate and the learner CPU share spent sampling at `bench learner`'s update rate.")
            { shards, seconds, fill, concurrency, warmUp, learnerSeconds, learnerThreads };
        command.SetAction(async (parse, ct) =>
        {
            var settings = new SampleSettings(
                Shards: Positive(parse.GetValue(shards), "--shards"),
                Fill: Positive(parse.GetValue(fill), "--fill"),
                Concurrency: Positive(parse.GetValue(concurrency), "--concurrency"),
                Duration: Seconds(parse.GetValue(seconds), "--seconds"),
                WarmUp: TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))),
                LearnerSeconds: parse.GetValue(learnerSeconds),
                LearnerThreads: parse.GetValue(learnerThreads));
            var result = await SampleBenchmark.RunAsync(settings, (threads, duration) => LearnerRateOnCpu("sample", threads, duration), ct);
            Console.Out.WriteLine(result.ToJson());
            return 0;
        });
        return command;
    }

    /// <summary>`bench learner` on the CPU in this process (TorchSharp lives here, not in DistSac.Bench): its updates/s and threads.</summary>
    private static LearnerRate LearnerRateOnCpu(string bench, int threads, TimeSpan duration)
    {
        var device = TorchRuntime.ResolveDevice("cpu");
        var (n, concurrent) = TorchRuntime.ConfigureThreads(threads, device);
        if (bench == "sample")
            Say($"sample: `bench learner --threads {n} --seconds {duration.TotalSeconds}` for the update rate the sampling share is taken at");
        var r = LearnerBenchmark.Run(device, n, duration, concurrentStreams: concurrent);
        return new LearnerRate(r.UpdatesPerSecond, n, concurrent, r.Seconds);
    }

    /// <summary>The executable the process-based benchmarks start (`replay`, `local`, `worker`): this one.</summary>
    private static string Self() => Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");

    // Flag helpers: the checks every bench command makes of its values.

    private static Option<T> Opt<T>(string name, T defaultValue, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static T Positive<T>(T value, string flag) where T : System.Numerics.INumber<T> =>
        value >= T.One ? value : throw new ArgumentException($"{flag} must be >= 1 (got {value}).");

    private static TimeSpan Seconds(double value, string flag) =>
        double.IsFinite(value) && value > 0 ? TimeSpan.FromSeconds(value) : throw new ArgumentException($"{flag} must be > 0 (got {value}).");

    private static int Batch(int value, string flag) =>
        value >= 1 && value <= DistSac.Protocol.ProtocolLimits.MaxBatchTransitions
            ? value : throw new ArgumentException($"{flag} must be in [1, {DistSac.Protocol.ProtocolLimits.MaxBatchTransitions}] (got {value}).");

    private static void Say(string line) => BenchOutput.Say(line);
}
