using System.Diagnostics;
using DistSac.Learning.Replay;
using DistSac.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Benchmarks;

public sealed record LearnerBenchmarkResult(
    string Device, int Threads, int BatchSize, int Hidden, int ObservationSize, int ActionSize,
    int Updates, double Seconds, double UpdatesPerSecond, double GflopPerUpdate, double MatmulPeakGflops, double Efficiency);

// UpdatesPerSecond, MatmulPeakGflops and Efficiency are medians over alternating rounds; Efficiency uses 0.6 GFLOP per update.

/// <summary>
/// Times SAC gradient updates on Pendulum-sized data already in memory (batch sampled from an in-memory replay each
/// update, as in training). Efficiency = updates/s x 0.6 GFLOP / TorchSharp's own 2048x2048 matmul GFLOP/s with the
/// same threads, measured in the same process, so machines of different speed compare.
/// </summary>
public static class LearnerBenchmark
{
    /// <summary>Multiply-adds of one update, counted layer by layer (see docs/benchmarks.md); ~0.6 GFLOP at 256/256x256/Pendulum.</summary>
    public static double GflopPerUpdate(int batch, int obs, int act, int[] hidden)
    {
        static double MlpMacs(int input, int[] hidden, int output)
        {
            double macs = 0; int prev = input;
            foreach (var h in hidden) { macs += (double)prev * h; prev = h; }
            return macs + (double)prev * output;
        }
        double actor = MlpMacs(obs, hidden, 2 * act) * batch;
        double critic = MlpMacs(obs + act, hidden, 1) * batch;      // one of the two critics
        // target: actor fwd + 2 target critics fwd; critic step: 2 critics fwd + 2x bwd;
        // actor step: actor fwd + 2 critics fwd + input-grad bwd (1x) + actor bwd (2x).
        double macsTotal = actor + 2 * critic + 2 * critic * 3 + actor * 3 + 2 * critic * 2;
        return 2 * macsTotal / 1e9;
    }

    public static LearnerBenchmarkResult Run(Device device, int threads, TimeSpan duration, int warmupUpdates = 100, long seed = 0, bool concurrentStreams = false)
    {
        const int obs = 3, act = 1, replayRows = 100_000;
        var options = new SacOptions();
        var layout = new TransitionLayout(obs, act);
        var replay = new InMemoryReplayBuffer(layout, replayRows);
        var random = new Random((int)seed);
        Span<float> o = stackalloc float[obs];
        Span<float> a = stackalloc float[act];
        Span<float> n = stackalloc float[obs];
        for (int i = 0; i < replayRows; i++)
        {
            for (int k = 0; k < obs; k++) { o[k] = random.NextSingle() * 2 - 1; n[k] = random.NextSingle() * 2 - 1; }
            a[0] = random.NextSingle() * 4 - 2;
            replay.Add(o, a, -random.NextSingle() * 16, n, false);
        }

        using var learner = new SacLearner(obs, act, [-2f], [2f], options, device, seed, concurrentStreams);
        using var staging = new BatchStaging(layout, options.BatchSize, device);

        void OneUpdate()
        {
            replay.Sample(random, options.BatchSize, staging.HostRows);
            staging.Upload();
            learner.Update(staging.Observations, staging.Actions, staging.Rewards, staging.NextObservations, staging.Terminated);
        }

        for (int i = 0; i < warmupUpdates; i++) OneUpdate();
        MatmulPeak.Synchronize(device);

        // This VM's speed drifts with its neighbours, so updates and the matmul ceiling are measured in alternating
        // rounds and each round's efficiency uses its own ceiling; the reported figures are medians over rounds.
        const int rounds = 5;
        var roundUps = new double[rounds];
        var roundPeak = new double[rounds];
        int updates = 0;
        double seconds = 0;
        var intraOp = torch.get_num_threads();
        for (int round = 0; round < rounds; round++)
        {
            torch.set_num_threads(threads); // the ceiling uses all the benchmark's threads in one matmul
            roundPeak[round] = MatmulPeak.MeasureGflops(device, rounds: 2, matmulsPerRound: 3);
            torch.set_num_threads(intraOp);
            var sw = Stopwatch.StartNew();
            int done = 0;
            while (sw.Elapsed.TotalSeconds < duration.TotalSeconds / rounds)
            {
                for (int i = 0; i < 10; i++) OneUpdate();
                done += 10;
            }
            learner.ReadStats();
            MatmulPeak.Synchronize(device);
            var s = sw.Elapsed.TotalSeconds;
            roundUps[round] = done / s;
            updates += done;
            seconds += s;
        }
        var efficiencies = new double[rounds];
        for (int r = 0; r < rounds; r++) efficiencies[r] = roundUps[r] * NominalGflopPerUpdate / roundPeak[r];
        var gflop = GflopPerUpdate(options.BatchSize, obs, act, options.HiddenSizes);
        return new LearnerBenchmarkResult(device.ToString(), threads, options.BatchSize, options.HiddenSizes[0], obs, act,
            updates, seconds, Median(roundUps), gflop, Median(roundPeak), Median(efficiencies));
    }

    /// <summary>The convention: one update counts as 0.6 GFLOP (the layer-by-layer count is <see cref="GflopPerUpdate"/>).</summary>
    public const double NominalGflopPerUpdate = 0.6;

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
