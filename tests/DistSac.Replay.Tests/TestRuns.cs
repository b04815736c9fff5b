using System.Buffers.Binary;
using DistSac.Protocol;
using DistSac.Testing;

namespace DistSac.Replay.Tests;

/// <summary>Pendulum-shaped runs (O=3, A=1, 40-byte records) whose records carry an id in the policy-version field.</summary>
internal static class TestRuns
{
    public const int ObservationSize = 3;
    public const int ActionSize = 1;
    public const int RecordBytes = 40;
    public static readonly TransitionRecord Layout = new(ObservationSize, ActionSize);

    public static string NewRunId() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static ReplayMetadata Metadata(string runId, long capacity, int shards) =>
        new(runId, "Pendulum-v1", ObservationSize, ActionSize, RecordBytes, Seed: 1, WarmupTransitions: 0,
            capacity, shards, ReplayLimits.SchemaVersion);

    public static async Task<ShardedReplay> OpenAsync(IReadOnlyList<RedisServer> servers, string runId, long capacity, bool initialize = true)
    {
        var endpoints = new string[servers.Count];
        for (int i = 0; i < endpoints.Length; i++) endpoints[i] = servers[i].Endpoint;
        var options = new ReplayOptions { RunId = runId, Shards = endpoints, CapacityPerShard = capacity, ConnectTimeoutMs = 2000 };
        var replay = await ShardedReplay.ConnectAsync(options, logger: null, CancellationToken.None);
        if (initialize)
            await replay.InitializeRunAsync(Metadata(runId, capacity, servers.Count), CancellationToken.None);
        return replay;
    }

    /// <summary>count records with ids firstId.. ; every float is derived from the id so a record is checkable byte for byte.</summary>
    public static byte[] Records(int count, int firstId)
    {
        var bytes = new byte[count * RecordBytes];
        for (int i = 0; i < count; i++)
        {
            int id = firstId + i;
            Layout.Write(bytes.AsSpan(i * RecordBytes, RecordBytes), [id, id + 0.25f, id + 0.5f], [-id], id * 0.1f,
                [id + 1f, id + 1.25f, id + 1.5f], id % 2 == 1, id);
        }
        return bytes;
    }

    public static int Id(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[36..]);

    public static ReadOnlySpan<byte> RecordAt(ReadOnlySpan<byte> records, int index) => records.Slice(index * RecordBytes, RecordBytes);
}
