using DistSac.Protocol;
using DistSac.Protocol.V1;
using DistSac.Replay;
using DistSac.Testing;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway.Tests;

/// <summary>
/// A fresh run on a real Redis, a real gateway on 127.0.0.1:0 and a real gRPC client. <see cref="Learner"/> is the
/// test's own connection to the shards, playing the learner: it creates the run, publishes weights and progress.
/// </summary>
internal sealed class GatewayTestbed : IAsyncDisposable
{
    public const int ObservationSize = 3; // Pendulum-v1
    public const int ActionSize = 1;
    public const int RecordBytes = 4 * (2 * ObservationSize + ActionSize + 3); // 40, written out rather than asked of the code

    private readonly List<GatewayHost> _gateways = [];
    private readonly List<GrpcChannel> _channels = [];
    private ILoggerFactory? _loggerFactory;

    private GatewayTestbed(ReplayOptions replay, ShardedReplay learner, ReplayMetadata metadata)
    {
        Replay = replay;
        Learner = learner;
        Metadata = metadata;
    }

    public ReplayOptions Replay { get; }
    public ShardedReplay Learner { get; }
    public ReplayMetadata Metadata { get; }
    public GatewayHost Gateway => _gateways[0];
    public ReplayGateway.ReplayGatewayClient Client { get; private set; } = null!;
    public static TransitionRecord Schema => new(ObservationSize, ActionSize);

    /// <param name="rateLimit">The learner's rate-limit contract written into the run metadata (null: none, nothing is held).</param>
    public static async Task<GatewayTestbed> StartAsync(RedisServer redis, GatewayOptions? gateway = null, bool createRun = true, long warmup = 0,
        string envId = "Pendulum-v1", ILoggerFactory? loggerFactory = null, IReadOnlyList<RedisServer>? shards = null, RateLimitContract? rateLimit = null)
    {
        shards ??= [redis];
        var endpoints = new string[shards.Count];
        for (int i = 0; i < endpoints.Length; i++) endpoints[i] = shards[i].Endpoint;
        var replay = new ReplayOptions
        {
            RunId = "gw-" + Guid.NewGuid().ToString("N")[..12],
            Shards = endpoints,
            CapacityPerShard = 10_000,
            Password = redis.Password,
            ConnectTimeoutMs = 2000,
        };
        var metadata = new ReplayMetadata(replay.RunId, envId, ObservationSize, ActionSize, RecordBytes, Seed: 7,
            WarmupTransitions: warmup, replay.CapacityPerShard, ShardCount: endpoints.Length, SchemaVersion: 1, rateLimit);
        var learner = await ShardedReplay.ConnectAsync(replay, null, CancellationToken.None);
        if (createRun) await learner.InitializeRunAsync(metadata, CancellationToken.None);
        var bed = new GatewayTestbed(replay, learner, metadata) { _loggerFactory = loggerFactory };
        try
        {
            var first = await bed.StartGatewayAsync(gateway);
            bed.Client = bed.ClientFor(first);
        }
        catch
        {
            await bed.DisposeAsync();
            throw;
        }
        return bed;
    }

    public async Task<GatewayHost> StartGatewayAsync(GatewayOptions? options = null)
    {
        options = (options ?? new GatewayOptions()) with { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 };
        var host = await GatewayHost.StartAsync(options, Replay, _loggerFactory);
        _gateways.Add(host);
        return host;
    }

    public ReplayGateway.ReplayGatewayClient ClientFor(GatewayHost host, int? maxSendBytes = ProtocolLimits.MaxMessageBytes)
    {
        var channel = GrpcChannel.ForAddress(host.Address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = ProtocolLimits.MaxMessageBytes,
            MaxSendMessageSize = maxSendBytes,
        });
        _channels.Add(channel);
        return new ReplayGateway.ReplayGatewayClient(channel);
    }

    /// <summary>GetRunInfo, which registers the worker.</summary>
    public async Task<RunInfo> RegisterAsync(string workerId, ReplayGateway.ReplayGatewayClient? client = null) =>
        await (client ?? Client).GetRunInfoAsync(new GetRunInfoRequest { WorkerId = workerId });

    /// <summary>
    /// A push under <paramref name="incarnation"/>; the default 1 is below every incarnation the gateway issues (they
    /// start at the clock in unix ms), so it is accepted for any registered worker, as an older start's push is.
    /// </summary>
    public static PushRequest Push(string workerId, long sequence, byte[] records, long incarnation = 1) => new()
    {
        WorkerId = workerId,
        Incarnation = incarnation,
        Sequence = sequence,
        TransitionCount = records.Length / RecordBytes,
        Records = ByteString.CopyFrom(records),
    };

    /// <summary>A push on the explicit lane (worker, incarnation, <paramref name="shard"/>).</summary>
    public static PushRequest PushToShard(string workerId, uint shard, long sequence, byte[] records, long incarnation = 1)
    {
        var push = Push(workerId, sequence, records, incarnation);
        push.Shard = shard;
        return push;
    }

    /// <summary>
    /// Distinct valid records inside Pendulum-v1's spaces: record i of batch <paramref name="batch"/> has the id
    /// u = ((batch * 1000 + i) mod 100000) / 100000 in [0, 1), observations u - 0.5 + field/10, next observations
    /// 0.25 above, reward -10u, action 0.25.
    /// </summary>
    public static byte[] Records(int count, int batch = 0)
    {
        var bytes = new byte[count * RecordBytes];
        Span<float> obs = stackalloc float[ObservationSize];
        Span<float> next = stackalloc float[ObservationSize];
        Span<float> action = stackalloc float[ActionSize];
        for (int i = 0; i < count; i++)
        {
            float u = ((batch * 1000L + i) % 100_000) / 100_000f;
            for (int k = 0; k < ObservationSize; k++)
            {
                obs[k] = u - 0.5f + k / 10f;
                next[k] = u - 0.25f + k / 10f;
            }
            action[0] = 0.25f;
            Schema.Write(bytes.AsSpan(i * RecordBytes, RecordBytes), obs, action, reward: -10f * u, next, terminated: i % 2 == 1, policyVersion: batch);
        }
        return bytes;
    }

    public async Task<long> StoredAsync() => (await Learner.ReadStatsAsync(CancellationToken.None)).TotalInserted;

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels) channel.Dispose();
        foreach (var gateway in _gateways) await gateway.DisposeAsync();
        await Learner.DisposeAsync();
    }
}
