using DistSac.Learning;
using DistSac.Replay;
using DistSac.Testing;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner.Tests;

/// <summary>
/// A <see cref="DistributedLearner"/> running on given shards (an endless learner, see
/// <see cref="LearnerHarness.EndlessLearner"/>, batch 32) with its /metrics on a free port, a feeder connection to the
/// same run, and a temp runs root; started once its first weights are out. Dispose stops it and deletes the runs root;
/// the shards stay the test's (it kills and restarts them).
/// </summary>
internal sealed class RunningLearner : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly DirectoryInfo _runsRoot;

    /// <summary>The learner's last log lines, appended to a wait's time-out message: what it was doing when the test gave up.</summary>
    private readonly RecordedLog _log;

    private RunningLearner(DirectoryInfo runsRoot, LearnerOptions options, ReplayOptions replay, ILogger? logger, Action<LearnerMetrics>? onMetrics)
    {
        _runsRoot = runsRoot;
        Options = options;
        Replay = replay;
        _log = new RecordedLog(capacity: 60, forwardTo: logger);
        Learner = new DistributedLearner(options, new SacOptions { BatchSize = 32 }, replay, _log, onMetrics);
        Http = new HttpClient { BaseAddress = new Uri(options.HttpListen) };
        Running = Learner.RunAsync(_stop.Token);
    }

    public LearnerOptions Options { get; }
    public ReplayOptions Replay { get; }
    public DistributedLearner Learner { get; }
    public Task<LearnerResult> Running { get; }
    public HttpClient Http { get; }

    /// <summary>A connection of the test's own to the run (as a gateway's), for inserting; connected after the learner wrote the metadata.</summary>
    public ShardedReplay Feeder { get; private set; } = null!;

    /// <param name="runIdPrefix">Names the run (and its temp folder) after the test, with a random suffix.</param>
    /// <param name="configure">What the test exercises, on top of the endless learner.</param>
    /// <param name="logger">Also gets the learner's log (its last lines are kept for time-out messages either way).</param>
    /// <param name="onMetrics">Called by the update loop at each metrics line, as <see cref="DistributedLearner"/>'s own callback.</param>
    public static async Task<RunningLearner> StartAsync(string runIdPrefix, IReadOnlyList<RedisServer> shards, Func<LearnerOptions, LearnerOptions> configure,
        ILogger? logger = null, Action<LearnerMetrics>? onMetrics = null)
    {
        var runsRoot = Directory.CreateTempSubdirectory($"distsac-learner-{runIdPrefix}-");
        var replay = new ReplayOptions
        {
            RunId = runIdPrefix + "-" + Guid.NewGuid().ToString("N")[..12],
            Shards = [.. shards.Select(s => s.Endpoint)],
            CapacityPerShard = 100_000,
        };
        var options = configure(LearnerHarness.EndlessLearner(runsRoot.FullName, listen: $"http://127.0.0.1:{FreePort.Next()}"));
        RunningLearner running;
        try
        {
            running = new RunningLearner(runsRoot, options, replay, logger, onMetrics);
        }
        catch
        {
            runsRoot.Delete(recursive: true); // the options did not validate
            throw;
        }
        try
        {
            running.Feeder = await ShardedReplay.ConnectAsync(replay, logger: null, CancellationToken.None);
            await running.WaitForAsync(() => Task.FromResult(running.Learner.Exporter.Ready), "the learner to publish its first weights");
            await running.Feeder.RequireMetadataAsync(CancellationToken.None);
            return running;
        }
        catch
        {
            await running.DisposeAsync();
            throw;
        }
    }

    public Task WaitForAsync(Func<Task<bool>> condition, string what) => LearnerHarness.WaitForAsync(Running, condition, () => what + LogTail());

    public Task<double> WaitForMetricAsync(string name, Func<double, bool> condition) => LearnerHarness.WaitForMetricAsync(Running, Http, name, condition, LogTail);

    private string LogTail() => $"{Environment.NewLine}the learner's last log lines:{Environment.NewLine}{_log.Tail()}";

    /// <summary>The run's folder (config.json, metrics.jsonl, checkpoint/) under the temp runs root.</summary>
    public string RunPath => Path.Combine(_runsRoot.FullName, Replay.RunId);

    /// <summary>Asks the learner to stop (SIGTERM) without waiting: callable from the learner's own metrics callback.</summary>
    public void RequestStop() => _stop.Cancel();

    /// <summary>Stops the learner and waits for its run to end (a stop is not a failure).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Running;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the learner without rethrowing its failure (a test that got this far already failed, or called <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Running;
        }
        catch (Exception)
        {
            // Reported by the test's own StopAsync or wait; rethrown here it would hide the test's failure.
        }
        if (Feeder is not null) await Feeder.DisposeAsync();
        Http.Dispose();
        _stop.Dispose();
        _runsRoot.Delete(recursive: true);
    }
}
