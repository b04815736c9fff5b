using DistSac.Protocol;
using DistSac.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Worker.Tests;

/// <summary>
/// A small in-memory ReplayGateway for the worker's tests: it records every push attempt, stores each
/// (worker, sequence) once, and can be told to fail pushes, lose acknowledgements or reject batches.
/// Its state outlives the Kestrel server hosting it, so a test can stop and restart the server.
/// </summary>
public sealed class TestGateway : ReplayGateway.ReplayGatewayBase, IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<PushAttempt> _attempts = [];
    private readonly SortedDictionary<long, byte[]> _stored = [];
    private readonly SortedDictionary<(uint Shard, long Sequence), byte[]> _laneStored = [];
    private readonly Dictionary<uint, int> _ambiguous = [];
    private readonly List<WeightsUpdate> _weights = [];
    private TaskCompletionSource _weightsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _streams = new();
    private long _totalInserted;
    private int _watchCalls;

    public TestGateway(string envId = "Pendulum-v1", int observationSize = 3, int actionSize = 1, long warmupTransitions = 0)
    {
        RunInfo = new RunInfo
        {
            RunId = "test-run",
            EnvId = envId,
            ObservationSize = observationSize,
            ActionSize = actionSize,
            Seed = 42,
            WarmupTransitions = warmupTransitions,
            RecordBytes = ProtocolLimits.RecordBytes(observationSize, actionSize),
            MaxBatchTransitions = ProtocolLimits.MaxBatchTransitions,
            ProtocolVersion = ProtocolLimits.ProtocolVersion,
        };
    }

    public RunInfo RunInfo { get; }

    /// <summary>Pushes to these shards (PushRequest.shard) answer Unavailable with the not-stored trailer, storing nothing.</summary>
    public HashSet<uint> DownShards { get; } = [];

    /// <summary>The next <paramref name="count"/> pushes to <paramref name="shard"/> answer Unavailable without the trailer (storing nothing).</summary>
    public void FailAmbiguously(uint shard, int count)
    {
        lock (_gate) _ambiguous[shard] = count;
    }

    /// <summary>Batches stored on explicit lanes, by (shard, lane sequence).</summary>
    public IReadOnlyList<KeyValuePair<(uint Shard, long Sequence), byte[]>> LaneStored { get { lock (_gate) return _laneStored.ToArray(); } }

    /// <summary>Push calls still to fail with Unavailable before storing anything.</summary>
    public int FailPushes { get; set; }

    /// <summary>GetRunInfo answers FailedPrecondition (the learner has not created the run) this many times first.</summary>
    public int RunMissingFor { get; set; }

    public int GetRunInfoCalls => Volatile.Read(ref _getRunInfoCalls);
    private int _getRunInfoCalls;

    /// <summary>Push calls still to store the batch and then fail with Unavailable (a lost acknowledgement).</summary>
    public int LoseAcknowledgements { get; set; }

    /// <summary>Push calls still to answer "duplicate" without storing anything (a gateway that lost track of a batch).</summary>
    public int AnswerDuplicates { get; set; }

    /// <summary>When set, every push is rejected with InvalidArgument and this detail.</summary>
    public string? RejectWith { get; set; }

    public IReadOnlyList<PushAttempt> Attempts { get { lock (_gate) return _attempts.ToArray(); } }

    /// <summary>Stored batches by sequence number.</summary>
    public IReadOnlyList<KeyValuePair<long, byte[]>> Stored { get { lock (_gate) return _stored.ToArray(); } }

    public long StoredTransitions => Interlocked.Read(ref _totalInserted);

    /// <summary>WatchWeights calls opened so far: a worker opens one once it has the run and starts stepping.</summary>
    public int WatchCalls => Volatile.Read(ref _watchCalls);

    public void PublishWeights(long version, byte[] actor)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _weights.Add(new WeightsUpdate { Version = version, Actor = ByteString.CopyFrom(actor) });
            changed = _weightsChanged;
            _weightsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Ends open weight streams, as a gateway shutting down does (Kestrel would otherwise wait for them).</summary>
    public void AbortStreams()
    {
        CancellationTokenSource old;
        lock (_gate)
        {
            old = _streams;
            _streams = new CancellationTokenSource();
        }

        old.Cancel();
        old.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _streams.Dispose();
        }
    }

    public override Task<RunInfo> GetRunInfo(GetRunInfoRequest request, ServerCallContext context)
    {
        int call = Interlocked.Increment(ref _getRunInfoCalls);
        if (call <= RunMissingFor)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "run metadata not found: start the learner first"));
        var info = RunInfo.Clone();
        info.TotalInserted = StoredTransitions;
        info.Incarnation = call; // a new one per call, as the real gateway issues
        return Task.FromResult(info);
    }

    public override Task<PushResponse> Push(PushRequest request, ServerCallContext context)
    {
        var bytes = request.Records.ToByteArray();
        bool duplicate;
        lock (_gate)
        {
            _attempts.Add(new PushAttempt(request.WorkerId, request.Sequence, request.TransitionCount, bytes, request.Incarnation,
                request.HasShard ? request.Shard : null));
            if (RejectWith is { } reason)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, reason));
            }

            if (FailPushes > 0)
            {
                FailPushes--;
                throw new RpcException(new Status(StatusCode.Unavailable, "test gateway: failing this push"));
            }

            if (AnswerDuplicates > 0)
            {
                AnswerDuplicates--;
                return Task.FromResult(new PushResponse { Stored = 0, Duplicate = true, TotalInserted = _totalInserted });
            }

            if (request.HasShard)
            {
                if (request.Shard >= (uint)RunInfo.ShardCount)
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"shard {request.Shard} out of range"));
                if (_ambiguous.TryGetValue(request.Shard, out int left) && left > 0)
                {
                    _ambiguous[request.Shard] = left - 1;
                    throw new RpcException(new Status(StatusCode.Unavailable, "test gateway: shard lost mid-call"));
                }

                if (DownShards.Contains(request.Shard))
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "test gateway: shard down, nothing sent"),
                        new Metadata { { BatchPusher.NotStoredTrailer, "1" } });
                }

                long expected = 0;
                foreach (var key in _laneStored.Keys)
                {
                    if (key.Shard == request.Shard) expected = Math.Max(expected, key.Sequence + 1);
                }

                if (request.Sequence > expected)
                    throw new RpcException(new Status(StatusCode.OutOfRange, $"shard {request.Shard} lane skips sequence {expected}"));
                duplicate = !_laneStored.TryAdd((request.Shard, request.Sequence), bytes);
            }
            else
            {
                duplicate = !_stored.TryAdd(request.Sequence, bytes);
            }
            if (!duplicate)
            {
                _totalInserted += request.TransitionCount;
            }

            if (LoseAcknowledgements > 0)
            {
                LoseAcknowledgements--;
                throw new RpcException(new Status(StatusCode.Unavailable, "test gateway: stored, acknowledgement lost"));
            }
        }

        return Task.FromResult(new PushResponse
        {
            Stored = duplicate ? 0 : request.TransitionCount,
            Duplicate = duplicate,
            TotalInserted = StoredTransitions,
        });
    }

    public override async Task WatchWeights(WatchWeightsRequest request, IServerStreamWriter<WeightsUpdate> responseStream, ServerCallContext context)
    {
        Interlocked.Increment(ref _watchCalls);
        CancellationToken serverStopping;
        lock (_gate)
        {
            serverStopping = _streams.Token;
        }

        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, serverStopping);
        long known = request.KnownVersion;
        int sent = 0;
        while (!ended.IsCancellationRequested)
        {
            Task changed;
            WeightsUpdate[] pending;
            lock (_gate)
            {
                pending = _weights.Skip(sent).ToArray();
                sent = _weights.Count;
                changed = _weightsChanged.Task;
            }

            foreach (var update in pending)
            {
                if (update.Version > known)
                {
                    await responseStream.WriteAsync(update, ended.Token);
                    known = update.Version;
                }
            }

            try
            {
                await changed.WaitAsync(ended.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public sealed record PushAttempt(string WorkerId, long Sequence, int TransitionCount, byte[] Records, long Incarnation = 0, uint? Shard = null);
