using System.Text;
using System.Text.Json;
using DistSac.Protocol;

namespace DistSac.Replay;

/// <summary>JSON form of <see cref="ReplayMetadata"/> in the meta key, and a field-by-field comparison for clear errors.</summary>
internal static class MetadataCodec
{
    public static string Serialize(ReplayMetadata metadata) => JsonSerializer.Serialize(metadata);

    public static ReplayMetadata Deserialize(string runId, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ReplayMetadata>(json)
                   ?? throw new ReplaySchemaMismatchException($"run '{runId}' has empty metadata in Redis.");
        }
        catch (JsonException ex)
        {
            throw new ReplaySchemaMismatchException($"run '{runId}' has unreadable metadata in Redis ({ex.Message}): {json}");
        }
    }

    /// <summary>
    /// Null when the fixed fields are equal, else "Field: 'stored' in Redis vs 'wanted' here; ..." for every differing
    /// one. The rate-limit contract is not compared: the learner owns it and may change it (<see cref="ShardedReplay.InitializeRunAsync"/>).
    /// </summary>
    public static string? Differences(ReplayMetadata stored, ReplayMetadata wanted)
    {
        var sb = new StringBuilder();
        Compare(sb, nameof(ReplayMetadata.RunId), stored.RunId, wanted.RunId);
        Compare(sb, nameof(ReplayMetadata.EnvId), stored.EnvId, wanted.EnvId);
        Compare(sb, nameof(ReplayMetadata.ObservationSize), stored.ObservationSize, wanted.ObservationSize);
        Compare(sb, nameof(ReplayMetadata.ActionSize), stored.ActionSize, wanted.ActionSize);
        Compare(sb, nameof(ReplayMetadata.RecordBytes), stored.RecordBytes, wanted.RecordBytes);
        Compare(sb, nameof(ReplayMetadata.Seed), stored.Seed, wanted.Seed);
        Compare(sb, nameof(ReplayMetadata.WarmupTransitions), stored.WarmupTransitions, wanted.WarmupTransitions);
        Compare(sb, nameof(ReplayMetadata.CapacityPerShard), stored.CapacityPerShard, wanted.CapacityPerShard);
        Compare(sb, nameof(ReplayMetadata.ShardCount), stored.ShardCount, wanted.ShardCount);
        Compare(sb, nameof(ReplayMetadata.SchemaVersion), stored.SchemaVersion, wanted.SchemaVersion);
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>Checks a metadata value is self-consistent and fits the connection (shard count, run id).</summary>
    public static void Validate(ReplayMetadata metadata, ReplayOptions options, int shardCount)
    {
        if (metadata.RunId != options.RunId)
            throw new ArgumentException($"metadata is for run '{metadata.RunId}' but this replay is connected for run '{options.RunId}'.");
        if (metadata.ObservationSize < 1 || metadata.ActionSize < 1)
            throw new ArgumentException($"metadata sizes must be >= 1 (ObservationSize {metadata.ObservationSize}, ActionSize {metadata.ActionSize}).");
        int expected = ProtocolLimits.RecordBytes(metadata.ObservationSize, metadata.ActionSize);
        if (metadata.RecordBytes != expected)
            throw new ArgumentException($"metadata RecordBytes {metadata.RecordBytes} does not match {expected} for O={metadata.ObservationSize}, A={metadata.ActionSize}.");
        if (metadata.CapacityPerShard < 1 || metadata.CapacityPerShard > ReplayLimits.MaxCapacityPerShard)
            throw new ArgumentException($"metadata CapacityPerShard must be in [1, {ReplayLimits.MaxCapacityPerShard}] (got {metadata.CapacityPerShard}).");
        if (metadata.RateLimit?.Problem() is { } contract)
            throw new ArgumentException($"metadata RateLimit is unusable: {contract}.");
        if (metadata.ShardCount != shardCount)
            throw new ReplaySchemaMismatchException(
                $"ShardCount: run '{metadata.RunId}' uses {metadata.ShardCount} shards but this replay is connected to {shardCount}.");
    }

    private static void Compare<T>(StringBuilder sb, string field, T stored, T wanted)
    {
        if (EqualityComparer<T>.Default.Equals(stored, wanted)) return;
        if (sb.Length > 0) sb.Append("; ");
        sb.Append(field).Append(": '").Append(stored).Append("' in Redis vs '").Append(wanted).Append("' here");
    }
}
