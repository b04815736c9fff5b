using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistSac.Worker;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench worker`: env steps/s of one worker's rollout loop on one thread (actor inference, noise, record
/// packing; no network), plus the process's resident memory with only the worker's assemblies loaded.
/// </summary>
public static class WorkerBenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var envs = new Option<int>("--envs") { Description = "Environments stepped together (E).", DefaultValueFactory = _ => 32 };
        var seconds = new Option<double>("--seconds") { Description = "Timed duration after warm-up.", DefaultValueFactory = _ => 10 };
        var warmUp = new Option<double>("--warm-up-seconds") { Description = "Untimed run first, so the JIT reaches optimised code.", DefaultValueFactory = _ => 2 };
        var env = new Option<string>("--env") { Description = "Environment id.", DefaultValueFactory = _ => "Pendulum-v1" };
        var batch = new Option<int>("--batch-transitions") { Description = "Transitions per push batch (M).", DefaultValueFactory = _ => 64 };
        var command = new Command("worker", "Env steps/s of one worker's rollout loop on one thread (256x256 actor, stochastic), and its resident memory.")
        {
            envs, seconds, warmUp, env, batch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var r = await RolloutBenchmark.RunAsync(
                parse.GetValue(env)!, parse.GetValue(envs), TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmUp)), parse.GetValue(batch));
            bool torchLoaded = false;
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                torchLoaded |= assembly.GetName().Name?.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) == true;
            }

            Console.WriteLine(JsonSerializer.Serialize(
                new
                {
                    Benchmark = "worker",
                    Value = Math.Round(r.StepsPerSecond),
                    Unit = "env_steps/s",
                    r.Envs,
                    Cores = Environment.ProcessorCount,
                    Threads = 1,
                    Env = parse.GetValue(env),
                    r.Hidden,
                    r.BatchTransitions,
                    r.Steps,
                    Seconds = Math.Round(r.Seconds, 2),
                    AllocatedBytesPerStep = Math.Round(r.AllocatedBytesPerStep, 3),
                    r.Gen0Collections,
                    r.ActingVersion,
                    RssMb = Math.Round(ResidentMemory.CurrentMebibytes(), 1),
                    TorchsharpLoaded = torchLoaded,
                    Date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                },
                Json));
            return 0;
        });
        return command;
    }
}
