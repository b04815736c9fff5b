using System.CommandLine;
using System.Globalization;
using DistSac.Learning;
using DistSac.Learning.Benchmarks;
using DistSac.Learning.Training;

namespace DistSac.Cli.Commands;

/// <summary>`distsac bench ...`: each benchmark prints one JSON line with the figure, its unit, the configuration and the core count.</summary>
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
            var dev = TorchRuntime.ResolveDevice(parse.GetValue(device)!);
            var (n, concurrent) = TorchRuntime.ConfigureThreads(parse.GetValue(threads), dev);
            var r = LearnerBenchmark.Run(dev, n, TimeSpan.FromSeconds(parse.GetValue(seconds)), concurrentStreams: concurrent);
            Console.WriteLine(MetricsWriter.Serialize(new
            {
                Benchmark = "learner", Value = Math.Round(r.UpdatesPerSecond, 1), Unit = "updates/s",
                r.Device, Threads = n, ConcurrentStreams = concurrent, Cores = Environment.ProcessorCount, r.BatchSize, r.Hidden, r.Updates, Seconds = Math.Round(r.Seconds, 2),
                NominalGflopPerUpdate = LearnerBenchmark.NominalGflopPerUpdate, CountedGflopPerUpdate = Math.Round(r.GflopPerUpdate, 3), MatmulPeakGflops = Math.Round(r.MatmulPeakGflops, 1), Efficiency = Math.Round(r.Efficiency, 3),
                Date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            }));
            return 0;
        });
        return command;
    }
}
