using System.CommandLine;
using DistSac.Learning.Benchmarks;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench ...`: each benchmark prints one JSON line with the figure, its unit, the configuration and the core count.
/// The harnesses live elsewhere: `learner` in DistSac.Learning (<see cref="LearnerBenchReport"/>, TorchSharp), the rest in DistSac.Bench.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks; each prints one JSON line.");
        bench.Subcommands.Add(Learner());
        bench.Subcommands.Add(WorkerBenchCommand.Create());
        foreach (var c in DistributedBenchCommand.Create()) bench.Subcommands.Add(c);
        return bench;
    }

    private static Command Learner()
    {
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double>("--seconds") { Description = "Timed duration after warm-up.", DefaultValueFactory = _ => 20 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var command = new Command("learner", "SAC gradient updates per second (batch 256, 256x256, Pendulum dims), with the matmul peak and efficiency.") { threads, seconds, device };
        command.SetAction(parse =>
        {
            var report = LearnerBenchReport.Run(new LearnerBenchSettings(parse.GetValue(device)!, parse.GetValue(threads), TimeSpan.FromSeconds(parse.GetValue(seconds))));
            Console.WriteLine(report.ToJson());
            return 0;
        });
        return command;
    }
}
