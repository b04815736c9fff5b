using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench e2e`: the built `distsac local` as a child process until a deterministic evaluation reaches -200,
/// timed from outside, with start-up, learner, final evaluation and shutdown phases (<see cref="EndToEndBenchmark"/>).
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command EndToEnd()
    {
        var workers = Opt("--workers", 2, "Worker processes of `distsac local`.");
        var shards = Opt("--shards", 1, "redis-server shards of `distsac local`.");
        var seed = Opt("--seed", 0L, "Run seed.");
        var steps = Opt("--steps", 100_000L, "Env-step budget passed to `local` (training stops there even if the target was not reached).");
        var evalInterval = Opt("--eval-interval", EndToEndBenchmark.DefaultEvalInterval, "Updates between the learner's evaluations (the target is seen at the first one that reaches it).");
        var timeoutMinutes = Opt("--timeout-minutes", 30.0, "Give up (and fail) after this long.");
        var command = new Command("e2e", $"Wall-clock seconds and env steps for `distsac local` to reach a deterministic evaluation return of {EndToEndBenchmark.TargetReturn} (Pendulum-v1).")
        {
            workers, shards, seed, steps, evalInterval, timeoutMinutes,
        };
        command.SetAction(async (parse, ct) =>
        {
            var settings = new EndToEndSettings(Self(),
                Workers: Positive(parse.GetValue(workers), "--workers"),
                Shards: Positive(parse.GetValue(shards), "--shards"),
                Seed: parse.GetValue(seed),
                Steps: Positive(parse.GetValue(steps), "--steps"),
                Timeout: Seconds(parse.GetValue(timeoutMinutes) * 60, "--timeout-minutes"),
                EvalInterval: Positive(parse.GetValue(evalInterval), "--eval-interval"));
            var result = await EndToEndBenchmark.RunAsync(settings, ct);
            Console.Out.WriteLine(result.ToJson());
            return result.Outcome.Reached ? 0 : 1;
        });
        return command;
    }
}
