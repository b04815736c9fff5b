using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench local`: updates/s of `distsac local` over updates/s of `bench learner` with the same torch threads
/// (<see cref="LocalVsLearnerBenchmark"/>); `bench learner` runs in this process, where TorchSharp is.
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command LocalVsLearner()
    {
        var threads = Opt("--threads", Environment.ProcessorCount, "Torch threads of both learners (`local --learner-threads`, `bench learner --threads`).");
        var steps = Opt("--steps", 6000L, "Env steps of the `local` run (updates = steps - warm-up at 1 update per transition).");
        var warmup = Opt("--warmup", 1000L, "Warm-up transitions of the `local` run.");
        var seconds = Opt("--seconds", 20.0, "Timed duration of the learner benchmark.");
        var seed = Opt("--seed", 0L, "Run seed of the `local` run.");
        var timeoutMinutes = Opt("--timeout-minutes", 30.0, "Give up (and fail) if `local` has not finished after this long.");
        var childNice = Opt("--child-nice", -1, "`local --child-nice` for the workers and the gateway, 0-19 (default: local's own default).");
        var command = new Command("local", "Updates/s of `distsac local` (2 workers, 1 shard) over updates/s of `bench learner` with the same threads.")
        {
            threads, steps, warmup, seconds, seed, timeoutMinutes, childNice,
        };
        command.SetAction(async (parse, ct) =>
        {
            int t = Positive(parse.GetValue(threads), "--threads");
            long budget = Positive(parse.GetValue(steps), "--steps"), warm = Positive(parse.GetValue(warmup), "--warmup");
            if (budget <= warm + 500) throw new ArgumentException($"--steps must exceed --warmup by more than 500 (got {budget} and {warm}): the rate needs two progress lines.");
            var settings = new LocalVsLearnerSettings(Self(), t, budget, warm,
                LearnerDuration: Seconds(parse.GetValue(seconds), "--seconds"),
                Seed: parse.GetValue(seed),
                Timeout: Seconds(parse.GetValue(timeoutMinutes) * 60, "--timeout-minutes"),
                ChildNice: NiceOrDefault(parse.GetValue(childNice)));
            var result = await LocalVsLearnerBenchmark.RunAsync(settings, (n, duration) => LearnerRateOnCpu("local", n, duration), ct);
            if (!result.Completed) return 1;
            Console.Out.WriteLine(result.ToJson());
            return 0;
        });
        return command;
    }

    /// <summary>-1 (the flag's default) leaves `local`'s own default; otherwise 0-19, as `local` checks it.</summary>
    private static int? NiceOrDefault(int value) => value switch
    {
        -1 => null,
        >= 0 and <= 19 => value,
        _ => throw new ArgumentException($"--child-nice must be 0-19 (got {value}); leave it out for local's default."),
    };
}
