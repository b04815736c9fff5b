using DistSac.Observability;
using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Testing;

namespace DistSac.Learner.Tests;

/// <summary>Feeding a learner under test and waiting on its /metrics.</summary>
internal static class LearnerHarness
{
    /// <summary>
    /// A learner that runs until stopped (no step target, no evaluation, no rate limit), on one CPU thread, logging every
    /// 10 updates; tests add what they exercise with <c>with</c>.
    /// </summary>
    public static LearnerOptions EndlessLearner(string runsRoot, string listen = "") => new()
    {
        Steps = 1_000_000_000, WarmupTransitions = 256, UpdatesPerTransition = 0, EvalInterval = 1_000_000_000, EvalEpisodes = 1,
        LogInterval = 10, Device = "cpu", Threads = 1, RunsRoot = runsRoot, HttpListen = listen,
    };

    /// <summary>Chunks of 128 finite Pendulum records acted on with <paramref name="policyVersion"/>.</summary>
    public static async Task InsertAsync(ShardedReplay replay, string workerId, long firstSequence, int chunks, int policyVersion = 0)
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
                    -(float)random.NextDouble(), next, terminated: false, policyVersion: policyVersion);
            }
            await replay.InsertAsync(workerId, seq, records, 128, CancellationToken.None);
        }
    }

    /// <summary>
    /// <see cref="InsertAsync"/>, retried for up to 30 s while a shard answers "nothing was sent" (the feeder's connection
    /// to a restarted shard is not back yet); a retried chunk that did land is answered as a duplicate, not stored twice.
    /// </summary>
    public static async Task InsertOnceSentAsync(ShardedReplay replay, string workerId, long firstSequence, int chunks)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await InsertAsync(replay, workerId, firstSequence, chunks);
                return;
            }
            catch (ReplayUnavailableException e) when (e.NotSent && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public static Task WaitForAsync(Task running, Func<Task<bool>> condition, string what) => WaitForAsync(running, condition, () => what);

    /// <summary>
    /// Polls <paramref name="condition"/> for up to 90 s, surfacing the learner's exception if it ends; on time-out the
    /// message is <paramref name="what"/> as it reads then (so it can say what was seen last, not what was known at the start).
    /// </summary>
    public static async Task WaitForAsync(Task running, Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (running.IsCompleted) await running; // surfaces the learner's exception
            if (DateTime.UtcNow >= deadline) Assert.Fail($"timed out after 90 s waiting for {what()}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Polls the learner's /metrics until <paramref name="name"/> passes <paramref name="condition"/>; returns that value.
    /// A time-out names the address polled, the last value of the metric (NaN: absent from /metrics), the update count,
    /// distsac_replay_unavailable and the last failed request, if any.
    /// </summary>
    /// <param name="context">Appended to a time-out's message (the learner's last log lines).</param>
    public static async Task<double> WaitForMetricAsync(Task running, HttpClient http, string name, Func<double, bool> condition, Func<string>? context = null)
    {
        double value = double.NaN;
        Dictionary<string, double>? last = null;
        string? failure = null;
        await WaitForAsync(running, async () =>
        {
            try
            {
                last = PrometheusText.Parse(await http.GetStringAsync("/metrics"));
            }
            catch (HttpRequestException e)
            {
                failure = e.Message; // the listener is not up yet, or went away: the learner's own end surfaces above
                return false;
            }
            value = last.GetValueOrDefault(name, double.NaN);
            return condition(value);
        }, () => $"{name} on {http.BaseAddress}metrics: last {name} = {value}, distsac_updates_total = {Last("distsac_updates_total")}, " +
            $"distsac_replay_unavailable = {Last("distsac_replay_unavailable")}" + (failure is null ? "" : $"; last failed request: {failure}") + context?.Invoke());
        return value;

        double Last(string metric) => last?.GetValueOrDefault(metric, double.NaN) ?? double.NaN;
    }
}
