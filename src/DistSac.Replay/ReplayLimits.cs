namespace DistSac.Replay;

/// <summary>Bounds the replay enforces on configuration.</summary>
public static class ReplayLimits
{
    /// <summary>Slots are Lua doubles and decimal hash fields; 2^31 keeps both exact and far beyond any RAM.</summary>
    public const long MaxCapacityPerShard = int.MaxValue;

    /// <summary>Lua's unpack() accepts ~8000 values; the insert script issues one HSET per this many records.</summary>
    public const int RecordsPerHset = 2000;

    /// <summary>Current <see cref="ReplayMetadata.SchemaVersion"/> of the record layout and key scheme.</summary>
    public const int SchemaVersion = 1;
}
