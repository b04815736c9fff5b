using DistSac.Envs;
using DistSac.Protocol;
using DistSac.Protocol.V1;

namespace DistSac.Worker;

/// <summary>The gateway's RunInfo, checked against what this build of the worker can produce.</summary>
public sealed record RunDescription(
    string RunId,
    EnvSpec Spec,
    long Seed,
    long WarmupTransitions,
    long TotalInserted,
    TransitionRecord Layout,
    int MaxBatchTransitions,
    long Incarnation,
    int ShardCount = 0)
{
    /// <summary>Most shards a worker keeps lanes (and a batch buffer each) for.</summary>
    public const int MaxShards = 1024;

    /// <exception cref="WorkerFatalException">The run cannot be served by this worker; the message says why.</exception>
    public static RunDescription From(RunInfo info, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        if (info.ProtocolVersion != ProtocolLimits.ProtocolVersion)
        {
            throw new WorkerFatalException($"The gateway speaks protocol version {info.ProtocolVersion}; this worker speaks {ProtocolLimits.ProtocolVersion}. Run the same DistSac version everywhere.");
        }

        EnvSpec spec;
        try
        {
            spec = EnvironmentRegistry.GetSpec(info.EnvId);
        }
        catch (UnknownEnvironmentException e)
        {
            throw new WorkerFatalException($"The run '{info.RunId}' uses environment '{info.EnvId}', which this worker does not have: {e.Message}", e);
        }

        if (spec.ObservationSize != info.ObservationSize || spec.ActionSize != info.ActionSize)
        {
            throw new WorkerFatalException(
                $"The run says {info.EnvId} has {info.ObservationSize} observations and {info.ActionSize} actions; this worker's {info.EnvId} has {spec.ObservationSize} and {spec.ActionSize}.");
        }

        var layout = new TransitionRecord(spec.ObservationSize, spec.ActionSize);
        if (info.RecordBytes != layout.RecordBytes)
        {
            throw new WorkerFatalException(
                $"The run stores {info.RecordBytes}-byte records but this worker packs {layout.RecordBytes}-byte records for {info.EnvId} (4 * (2 * {spec.ObservationSize} + {spec.ActionSize} + 3)); the gateway and worker disagree on the record format.");
        }

        if (info.Incarnation < 1)
        {
            throw new WorkerFatalException($"The gateway issued incarnation {info.Incarnation} for run '{info.RunId}'; it must be > 0 (is the gateway older than this worker? Run the same DistSac version everywhere).");
        }

        if (info.WarmupTransitions < 0)
        {
            throw new WorkerFatalException($"The run's warm-up length is {info.WarmupTransitions}; it must be >= 0.");
        }

        // 0 means the gateway did not say; the protocol's own limit applies then.
        int maxBatch = info.MaxBatchTransitions > 0 ? info.MaxBatchTransitions : ProtocolLimits.MaxBatchTransitions;
        int largest = RolloutDriver.BatchCapacity(options.BatchTransitions, options.Envs);
        if (largest > maxBatch)
        {
            throw new WorkerFatalException(
                $"A batch can hold up to Worker:BatchTransitions + Worker:Envs - 1 = {options.BatchTransitions} + {options.Envs} - 1 = {largest} transitions but the gateway accepts at most {maxBatch}; lower Worker:BatchTransitions or Worker:Envs.");
        }

        if ((long)largest * layout.RecordBytes > ProtocolLimits.MaxMessageBytes - 1024)
        {
            throw new WorkerFatalException($"A batch of {largest} {layout.RecordBytes}-byte records exceeds the {ProtocolLimits.MaxMessageBytes}-byte message limit; lower Worker:BatchTransitions or Worker:Envs.");
        }

        // 0: a gateway older than explicit lanes (pushes without a shard). A count beyond the protocol's is a broken gateway.
        if (info.ShardCount < 0 || info.ShardCount > MaxShards)
        {
            throw new WorkerFatalException($"The gateway says the run has {info.ShardCount} replay shards; expected 0 .. {MaxShards}.");
        }

        return new RunDescription(info.RunId, spec, info.Seed, info.WarmupTransitions, info.TotalInserted, layout, maxBatch, info.Incarnation, info.ShardCount);
    }
}
