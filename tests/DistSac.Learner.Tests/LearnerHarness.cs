using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Testing;

namespace DistSac.Learner.Tests;

/// <summary>What the learner tests share: feeding a replay, waiting on the running learner, reading its metrics.</summary>
internal static class LearnerHarness
{
    /// <summary>Chunks of 128 finite Pendulum records, sequence s going to shard s % 2.</summary>
    public static async Task InsertAsync(ShardedReplay replay, long firstSequence, int chunks)
    {
        var layout = new TransitionRecord(3, 1);
        var random = new Random(7);
        var records = new byte[128 * layout.RecordBytes];
        for (long seq = firstSequence; seq < firstSequence + chunks; seq++)
        {
            for (int i = 0; i < 128; i++)
            {
                float[] obs = [(float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()];
                float[] next = [(float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()];
                layout.Write(records.AsSpan(i * layout.RecordBytes, layout.RecordBytes), obs, [(float)random.NextDouble() - 0.5f],
                    -(float)random.NextDouble(), next, terminated: false, policyVersion: 0);
            }
            await replay.InsertAsync("feeder", seq, records, 128, CancellationToken.None);
        }
    }

    public static async Task WaitForAsync(Task running, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (running.IsCompleted) await running; // surfaces the learner's exception
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    public static async Task<double> WaitForMetricAsync(Task running, HttpClient http, string name, Func<double, bool> condition)
    {
        double value = double.NaN;
        await WaitForAsync(running, async () =>
        {
            value = (await ScrapeAsync(http)).GetValueOrDefault(name, double.NaN);
            return condition(value);
        }, $"{name} (last {value})");
        return value;
    }

    public static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http) =>
        PrometheusText.Parse(await http.GetStringAsync("/metrics"));
}
