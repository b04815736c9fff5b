using System.CommandLine;
using System.Globalization;
using DistSac.Worker;

namespace DistSac.Cli.Commands;

/// <summary>`distsac bench scale`: stored env steps/s against real worker processes through an in-process gateway (<see cref="ScaleBenchmark"/>).</summary>
public static partial class DistributedBenchCommand
{
    private static Command Scale()
    {
        var workersList = Opt("--workers-list", "1,2,4,8,16,32", "Comma-separated worker-process counts, measured one after another (ascending).");
        var stepCost = Opt("--step-cost-us", 2000, "Simulated simulator cost per env step per env, in microseconds.");
        var costMode = Opt("--step-cost-mode", "sleep", "sleep: the simulator runs elsewhere and uses no CPU in the worker (isolates gateway/Redis limits on a small machine); spin: busy-wait in the worker (workers compete for cores).");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each worker count's measurement.");
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var envsPerWorker = Opt("--envs-per-worker", 1, "Environments each worker steps.");
        var warmUp = Opt("--warm-up-seconds", 2.0, "Untimed running after the workers start (and after the first stored transition).");
        var plot = new Option<string?>("--plot") { Description = "Also write a PNG plot here." };
        var aotWorker = new Option<string?>("--aot-worker")
        {
            Description = "Also measure every count with this Native AOT distsac-worker executable (dotnet publish src/DistSac.Worker.Host), right after the `distsac worker` (JIT) measurement.",
        };
        var command = new Command("scale", "Stored env steps/s against worker processes (real `distsac worker`s through an in-process gateway), with scaling efficiency.")
        {
            workersList, stepCost, costMode, seconds, shards, envsPerWorker, warmUp, plot, aotWorker,
        };
        command.SetAction(async (parse, ct) =>
        {
            var counts = ParseWorkerCounts(parse.GetValue(workersList));
            int cost = Positive(parse.GetValue(stepCost), "--step-cost-us"), s = Positive(parse.GetValue(shards), "--shards");
            int envs = Positive(parse.GetValue(envsPerWorker), "--envs-per-worker");
            var mode = Enum.TryParse<SimulatedCostMode>(parse.GetValue(costMode), ignoreCase: true, out var m) && Enum.IsDefined(m)
                ? m : throw new ArgumentException($"--step-cost-mode must be sleep or spin (got '{parse.GetValue(costMode)}').");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var warm = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp)));
            var plotPath = parse.GetValue(plot);
            var kinds = new List<WorkerExecutable> { new("jit", Self(), ["worker"]) };
            if (parse.GetValue(aotWorker) is { } aotPath)
            {
                aotPath = Path.GetFullPath(aotPath);
                if (!File.Exists(aotPath)) throw new FileNotFoundException($"--aot-worker {aotPath} does not exist: publish it with dotnet publish src/DistSac.Worker.Host -c Release -r linux-x64 -o DIR.", aotPath);
                kinds.Add(new("aot", aotPath, []));
            }
            var result = await ScaleBenchmark.RunAsync(new ScaleSettings(counts, cost, mode, duration, s, envs, warm, kinds), ct);
            Console.Out.WriteLine(result.ToJson());
            if (plotPath is not null) ScaleBenchmark.PlotScale(plotPath, result);
            return 0;
        });
        return command;
    }

    private static int[] ParseWorkerCounts(string? list)
    {
        var counts = new SortedSet<int>();
        foreach (var part in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1024)
                throw new ArgumentException($"--workers-list entries must be integers in [1, 1024] (got '{part}').");
            counts.Add(n);
        }
        return counts.Count > 0 ? [.. counts] : throw new ArgumentException("--workers-list is empty.");
    }
}
