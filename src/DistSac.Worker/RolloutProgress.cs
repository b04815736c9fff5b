using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>
/// Logs a progress line every few seconds from the rollout thread: env steps/s since the last line, transitions
/// acknowledged, the actor version acting, the run-wide count, the last episode's return and the resident memory
/// (the worker's budget is 80 MB). Between lines a call costs one comparison.
/// </summary>
public sealed class RolloutProgress
{
    private readonly RolloutLoop _loop;
    private readonly BatchPusher _pusher;
    private readonly WeightsWatcher _watcher;
    private readonly PolicySlot _policy;
    private readonly long _intervalTicks;
    private readonly ILogger _logger;
    private long _nextTimestamp;
    private long _lastTimestamp;
    private long _lastSteps;

    public RolloutProgress(RolloutLoop loop, BatchPusher pusher, WeightsWatcher watcher, PolicySlot policy, TimeSpan interval, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(pusher);
        ArgumentNullException.ThrowIfNull(watcher);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(logger);
        _loop = loop;
        _pusher = pusher;
        _watcher = watcher;
        _policy = policy;
        _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        _logger = logger;
        _lastTimestamp = Stopwatch.GetTimestamp();
        _nextTimestamp = _lastTimestamp + _intervalTicks;
    }

    public void OnStep(long timestamp)
    {
        if (timestamp < _nextTimestamp)
        {
            return;
        }

        double seconds = (double)(timestamp - _lastTimestamp) / Stopwatch.Frequency;
        long steps = _loop.Steps;
        _logger.LogInformation(
            "{StepsPerSecond:F0} env steps/s | {Steps} steps, {Acknowledged} acknowledged, {Retries} retries | acting version {ActingVersion} (latest {KnownVersion}) | run total {TotalInserted} | episodes {Episodes}, last return {LastReturn:F1} | rss {RssMb:F0} MB",
            (steps - _lastSteps) / seconds, steps, _pusher.AcknowledgedTransitions, _pusher.Retries, _loop.LastPolicyVersion, _watcher.KnownVersion,
            _policy.TotalInserted, _loop.CompletedEpisodes, _loop.LastEpisodeReturn, ResidentMemory.CurrentMebibytes());
        _lastSteps = steps;
        _lastTimestamp = timestamp;
        _nextTimestamp = timestamp + _intervalTicks;
    }
}
