using System.Diagnostics;

namespace DistSac.Policy;

/// <summary>
/// Measures what a rollout worker's inference costs: stochastic <see cref="ActorNetwork.Act"/> calls (forward,
/// exp, tanh, rescale) on one thread, with noise drawn once up front so only the network is timed.
/// </summary>
public static class ActorThroughput
{
    /// <summary>Returns batched forward calls per second; multiply by <paramref name="batch"/> for samples/s.</summary>
    public static double MeasureForwardsPerSecond(ActorNetwork net, int batch, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, net.MaxBatch);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);

        var noise = new GaussianNoise(seed: 12345);
        var observations = new float[batch * net.ObservationSize];
        var eps = new float[batch * net.ActionSize];
        var actions = new float[batch * net.ActionSize];
        noise.Fill(observations);
        noise.Fill(eps);

        // Warm-up lets tiered JIT reach the optimised kernel before timing starts.
        Stopwatch warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromMilliseconds(Math.Min(200, duration.TotalMilliseconds)))
        {
            net.Act(observations, batch, actions, eps);
        }

        // Read the clock every few calls only: a Stopwatch read costs about as much as a tiny forward.
        const int CallsPerCheck = 16;
        long calls = 0;
        Stopwatch timer = Stopwatch.StartNew();
        do
        {
            for (int i = 0; i < CallsPerCheck; i++)
            {
                net.Act(observations, batch, actions, eps);
            }

            calls += CallsPerCheck;
        }
        while (timer.Elapsed < duration);

        return calls / timer.Elapsed.TotalSeconds;
    }
}
