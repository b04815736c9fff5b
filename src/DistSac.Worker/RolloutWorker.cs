using DistSac.Observability;
using DistSac.Envs;
using DistSac.Policy;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>
/// The worker role: learn the run from the gateway, follow the actor weights, and step E environments, pushing
/// their transitions in batches until stopped (or MaxSteps), then deliver what is left within the shutdown bound.
/// </summary>
public sealed class RolloutWorker
{
    private readonly WorkerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    public RolloutWorker(WorkerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RolloutWorker>();
    }

    /// <summary>Probe state and Prometheus metrics; served on Worker:HttpListen when it is set.</summary>
    public WorkerMetrics Metrics { get; } = new();

    /// <summary>
    /// Runs until <paramref name="stoppingToken"/> is cancelled or MaxSteps environment steps are taken. Returns
    /// normally after a clean stop (even when the gateway was unreachable at the end: the result says how many
    /// transitions were not acknowledged).
    /// </summary>
    /// <exception cref="WorkerFatalException">The gateway rejected a batch or the run does not fit this worker.</exception>
    public async Task<WorkerResult> RunAsync(CancellationToken stoppingToken)
    {
        // Up before the gateway answers, so /healthz is alive (and /readyz 503) while the worker waits for the run.
        await using var probes = string.IsNullOrEmpty(_options.HttpListen)
            ? null
            : ProbeListener.Start(_options.HttpListen, () => Metrics.Ready, Metrics.Registry, _logger);
        return await RunRolloutAsync(stoppingToken);
    }

    private async Task<WorkerResult> RunRolloutAsync(CancellationToken stoppingToken)
    {
        var tls = GatewayClientTls.Resolve(_options);
        _logger.LogInformation("Gateway {Gateway} over {Transport}", _options.Gateway, tls?.Describe() ?? "cleartext HTTP/2 (no TLS)");
        using var channel = GatewayChannel.Create(_options.Gateway, BearerToken.Resolve(_options.Token, _options.TokenFile, WorkerOptions.Section), tls);
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        RunInfo? info = await GetRunInfoAsync(client, stoppingToken);
        if (info is null)
        {
            _logger.LogInformation("Stopped before the gateway at {Gateway} answered", _options.Gateway);
            return WorkerResult.Empty;
        }

        RunDescription run = RunDescription.From(info, _options);
        WorkerSeeds seeds = WorkerSeeds.For(run.Seed, _options.WorkerId);
        _logger.LogInformation(
            "Worker {WorkerId} (incarnation {Incarnation}) joined run {RunId}: {EnvId} x {Envs}, seed {Seed}, warm-up {Warmup} transitions ({Inserted} stored so far), batches of {Batch} or {FlushMs} ms",
            _options.WorkerId, run.Incarnation, run.RunId, run.Spec.Id, _options.Envs, seeds.Environments, run.WarmupTransitions, run.TotalInserted, _options.BatchTransitions, _options.FlushIntervalMs);

        var policy = new PolicySlot(run.WarmupTransitions, run.TotalInserted);
        var watcher = new WeightsWatcher(client, _options.WorkerId, policy, run.Spec.ObservationSize, run.Spec.ActionSize, _options.Envs, _loggerFactory.CreateLogger<WeightsWatcher>());
        var pusher = new BatchPusher(client, policy, TimeSpan.FromMilliseconds(_options.PushTimeoutMs), _loggerFactory.CreateLogger<BatchPusher>());
        var exploration = ExplorationSettings.Resolve(run.Spec.Id, _options.ExplorationNoise, _options.NoiseCorrelationSteps);
        _logger.LogInformation("Worker {WorkerId} explores {EnvId} with {Exploration}; actor kernel {Kernel}", _options.WorkerId, run.Spec.Id, exploration, ActorNetwork.KernelName);
        var loop = new RolloutLoop(new VectorEnvironment(run.Spec.Id, _options.Envs, seeds.Environments), policy, seeds, _options.SimulatedStepCostMicroseconds, _options.SimulatedStepCostMode, exploration);
        int capacity = RolloutDriver.BatchCapacity(_options.BatchTransitions, _options.Envs);

        using var watchStop = new CancellationTokenSource();
        using var pushLifetime = new CancellationTokenSource();
        using var first = new TransitionBatch(run.Layout.RecordBytes, capacity);
        // One batch per lane may be pending (one lane per shard) while the first is filled.
        using var spares = new BatchSet(GatewayTransitionSink.LaneCount(run.ShardCount), run.Layout.RecordBytes, capacity);
        // Stopping ends stepping at once, but pushes get ShutdownFlushTimeoutMs more to deliver what was stepped.
        using var onStop = stoppingToken.Register(() => pushLifetime.CancelAfter(_options.ShutdownFlushTimeoutMs));
        var sink = new GatewayTransitionSink(pusher, _options.WorkerId, run.Incarnation, run.ShardCount, spares.Batches, pushLifetime.Token);
        var progress = new RolloutProgress(loop, pusher, watcher, policy, TimeSpan.FromSeconds(_options.ProgressIntervalSeconds), _logger);
        var driver = new RolloutDriver(loop, sink, _options.BatchTransitions, TimeSpan.FromMilliseconds(_options.FlushIntervalMs), progress.OnStep);

        Task watching = Task.Run(() => watcher.RunAsync(watchStop.Token), CancellationToken.None);
        Metrics.Stepping(loop, pusher, watcher);
        try
        {
            // The loop is CPU-bound: give it a pool thread of its own rather than the caller's context.
            await Task.Run(() => driver.RunAsync(first, _options.MaxSteps, stoppingToken, pushLifetime.Token), CancellationToken.None);
        }
        catch (OperationCanceledException) when (pushLifetime.IsCancellationRequested)
        {
            _logger.LogWarning(
                "Gave up delivering after {TimeoutMs} ms: {Unacknowledged} transitions were not acknowledged by the gateway",
                _options.ShutdownFlushTimeoutMs, loop.Steps - pusher.AcknowledgedTransitions);
        }
        catch (WorkerFatalException e)
        {
            _logger.LogCritical("Stopping: {Reason}", e.Message);
            throw;
        }
        finally
        {
            Metrics.Stopped();
            await pushLifetime.CancelAsync();
            await sink.DrainAsync();
            await watchStop.CancelAsync();
            await watching;
        }

        var result = new WorkerResult(
            loop.Steps, pusher.AcknowledgedTransitions, pusher.AcknowledgedBatches, sink.BatchesSent, pusher.Retries, pusher.Duplicates,
            watcher.KnownVersion, watcher.RejectedUpdates, loop.CompletedEpisodes, pusher.UnexpectedDuplicates, run.Incarnation, pusher.ReboundBatches);
        _logger.LogInformation(
            "Worker {WorkerId} stopped: {Steps} env steps, {Acknowledged} transitions acknowledged in {Batches} batches ({Retries} retries), weights version {Version}",
            _options.WorkerId, result.EnvSteps, result.AcknowledgedTransitions, result.AcknowledgedBatches, result.Retries, result.WeightsVersion);
        return result;
    }

    /// <summary>Asks for the run until the gateway answers (it may start after the workers); null when stopped first.</summary>
    private async Task<RunInfo?> GetRunInfoAsync(ReplayGateway.ReplayGatewayClient client, CancellationToken stoppingToken)
    {
        var backoff = new RetryBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                return await client.GetRunInfoAsync(
                    new GetRunInfoRequest { WorkerId = _options.WorkerId },
                    deadline: DateTime.UtcNow.AddMilliseconds(_options.PushTimeoutMs),
                    cancellationToken: stoppingToken);
            }
            // FailedPrecondition here means the learner has not created the run yet: wait for it like for a gateway.
            catch (RpcException e) when (GrpcFailure.IsFatal(e.StatusCode) && e.StatusCode != StatusCode.FailedPrecondition)
            {
                throw new WorkerFatalException($"The gateway at {_options.Gateway} refused GetRunInfo with {e.StatusCode}: {e.Status.Detail}", e);
            }
            catch (RpcException) when (stoppingToken.IsCancellationRequested)
            {
                return null;
            }
            catch (RpcException e)
            {
                TimeSpan wait = backoff.Next();
                _logger.LogWarning("Gateway {Gateway} not reachable ({StatusCode}: {Detail}); try {Attempt} in {WaitMs:F0} ms", _options.Gateway, e.StatusCode, e.Status.Detail, backoff.Attempts + 1, wait.TotalMilliseconds);
                try
                {
                    await Task.Delay(wait, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
        }

        return null;
    }
}

/// <summary>What a worker did, for its exit log and for tests.</summary>
/// <param name="BatchesSent">Sequence numbers used, summed over lanes (each lane used 0, 1, ...).</param>
/// <param name="UnexpectedDuplicates">Batches answered duplicate on their first try (logged as errors: see BatchPusher).</param>
/// <param name="Incarnation">RunInfo.incarnation this start pushed under.</param>
/// <param name="ReboundBatches">Batches the gateway certainly did not store (their shard was down), sent on another lane.</param>
public sealed record WorkerResult(
    long EnvSteps,
    long AcknowledgedTransitions,
    long AcknowledgedBatches,
    long BatchesSent,
    long Retries,
    long Duplicates,
    long WeightsVersion,
    long RejectedWeightUpdates,
    long Episodes,
    long UnexpectedDuplicates = 0,
    long Incarnation = 0,
    long ReboundBatches = 0)
{
    public static WorkerResult Empty { get; } = new(0, 0, 0, 0, 0, 0, -1, 0, 0);

    public long UnacknowledgedTransitions => EnvSteps - AcknowledgedTransitions;
}

/// <summary>Batches of one size, disposed together.</summary>
internal sealed class BatchSet : IDisposable
{
    private readonly TransitionBatch[] _batches;

    public BatchSet(int count, int recordBytes, int capacity)
    {
        _batches = new TransitionBatch[count];
        for (int i = 0; i < count; i++)
        {
            _batches[i] = new TransitionBatch(recordBytes, capacity);
        }
    }

    public IReadOnlyList<TransitionBatch> Batches => _batches;

    public void Dispose()
    {
        foreach (var batch in _batches)
        {
            batch.Dispose();
        }
    }
}
