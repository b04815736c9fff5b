using DistSac.Worker;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>`bench worker` settings: environment, E envs stepped together, transitions per push batch (M), timed and warm-up durations.</summary>
public sealed record WorkerBenchSettings(string Env, int Envs, int BatchTransitions, TimeSpan Duration, TimeSpan WarmUp);

/// <summary>
/// `bench worker` figures: the rollout loop's (<see cref="RolloutBenchmark"/>), this process's resident memory after it,
/// and whether TorchSharp was loaded into it (it must not be: the worker's lightness).
/// </summary>
public sealed record WorkerBenchResult(WorkerBenchSettings Settings, RolloutBenchmarkResult Rollout, double RssMb, bool TorchSharpLoaded)
{
    public string ToJson() => Serialize(new
    {
        Benchmark = "worker",
        Value = Math.Round(Rollout.StepsPerSecond),
        Unit = "env_steps/s",
        Rollout.Envs,
        Cores = Environment.ProcessorCount,
        Threads = 1,
        Settings.Env,
        Rollout.Hidden,
        Rollout.BatchTransitions,
        Rollout.Steps,
        Seconds = Math.Round(Rollout.Seconds, 2),
        AllocatedBytesPerStep = Math.Round(Rollout.AllocatedBytesPerStep, 3),
        Rollout.Gen0Collections,
        Rollout.ActingVersion,
        RssMb = Math.Round(RssMb, 1),
        TorchsharpLoaded = TorchSharpLoaded,
        Date = Today(),
    });
}

/// <summary>
/// `distsac bench worker`: env steps/s of one worker's rollout loop on one thread (actor inference, noise, record
/// packing; no network), plus the process's resident memory with only the worker's assemblies loaded.
/// </summary>
public static class WorkerBenchmark
{
    public static async Task<WorkerBenchResult> RunAsync(WorkerBenchSettings settings)
    {
        var rollout = await RolloutBenchmark.RunAsync(settings.Env, settings.Envs, settings.Duration, settings.WarmUp, settings.BatchTransitions);
        bool torchLoaded = false;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            torchLoaded |= assembly.GetName().Name?.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) == true;
        }
        return new WorkerBenchResult(settings, rollout, ResidentMemory.CurrentMebibytes(), torchLoaded);
    }
}
