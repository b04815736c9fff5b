namespace DistSac.Replay;

/// <summary>
/// Every Redis key and channel of a run. All start with "distsac:{run}:", and run ids may not contain ':' or glob
/// characters, so two runs sharing a Redis can never name (or SCAN-match) each other's keys.
/// Run-level keys (meta, weights, learner, workers, incarnations and the two channels) have a copy on every shard, so
/// the run goes on while any one shard is down (see ShardedReplay.Replicas.cs); the per-shard ring keys live on their own shard.
/// </summary>
public static class RunKeys
{
    public const string Root = "distsac";
    public const int MaxRunIdLength = 128;

    /// <summary>"distsac:{run}:"</summary>
    public static string Prefix(string runId) => $"{Root}:{Checked(runId)}:";

    /// <summary>SCAN/KEYS pattern matching exactly this run's keys.</summary>
    public static string Pattern(string runId) => Prefix(runId) + "*";

    /// <summary>String on every shard: the run's <see cref="ReplayMetadata"/> as JSON, written by the learner (SET NX; it rewrites only the rate-limit contract).</summary>
    public static string Meta(string runId) => Prefix(runId) + "meta";

    /// <summary>Hash on every shard: "version" (int64) and "actor" (serialized actor bytes), written together by one HSET; readers take the largest version.</summary>
    public static string Weights(string runId) => Prefix(runId) + "weights";

    /// <summary>Pub/sub channel on every shard: the new weights version (decimal) after every publish.</summary>
    public static string WeightsChannel(string runId) => Prefix(runId) + "weights:channel";

    /// <summary>Hash on every shard: "updates", "version", "finished" (0/1), "updated_at" (unix ms) of the learner; readers take the newest copy.</summary>
    public static string Learner(string runId) => Prefix(runId) + "learner";

    /// <summary>Pub/sub channel on every shard: "updates version finished" after every write of <see cref="Learner"/>.</summary>
    public static string LearnerChannel(string runId) => Prefix(runId) + "learner:channel";

    /// <summary>Hash on every shard that answered the registration: worker id -> last seen (unix ms).</summary>
    public static string Workers(string runId) => Prefix(runId) + "workers";

    /// <summary>Hash on every shard that answered the registration: worker id -> its latest incarnation (one per GetRunInfo; see ShardedReplay.RegisterWorkerAsync).</summary>
    public static string Incarnations(string runId) => Prefix(runId) + "incarnations";

    /// <summary>Hash on shard i: slot (decimal) -> packed record.</summary>
    public static string ShardData(string runId, int shard) => ShardPrefix(runId, shard) + "data";

    /// <summary>Hash on shard i: "cursor" (next slot to write), "fill", "total" (inserted ever), "capacity".</summary>
    public static string ShardState(string runId, int shard) => ShardPrefix(runId, shard) + "state";

    /// <summary>
    /// Hash on shard i: lane -> "first last", the sequences this shard stored for it (push idempotency; see InsertScript).
    /// Lanes are <see cref="ModuloLane"/> and <see cref="ShardLane"/>.
    /// </summary>
    public static string ShardSequences(string runId, int shard) => ShardPrefix(runId, shard) + "seq";

    /// <summary>Field of <see cref="ShardSequences"/> for a push without a shard: "worker incarnation" (sequences r, r + S, ...).</summary>
    public static string ModuloLane(string workerId, long incarnation) =>
        string.Concat(workerId, " ", incarnation.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Field of <see cref="ShardSequences"/> for a push with an explicit shard: "worker incarnation +" (sequences 0, 1, 2, ...
    /// of its own). Worker ids never contain a space, so it never equals a <see cref="ModuloLane"/>.
    /// </summary>
    public static string ShardLane(string workerId, long incarnation) => string.Concat(ModuloLane(workerId, incarnation), " +");

    /// <summary>Hash on shard i: worker id -> transitions it inserted into shard i, ever (duplicates not counted).</summary>
    public static string ShardWorkerCounts(string runId, int shard) => ShardPrefix(runId, shard) + "workers";

    /// <summary>Pub/sub channel on shard i: the shard's total inserted (decimal) after every insert that stored something.</summary>
    public static string ShardInsertedChannel(string runId, int shard) => ShardPrefix(runId, shard) + "inserted:channel";

    /// <summary>Throws <see cref="ArgumentException"/> unless the run id is 1..128 characters of [A-Za-z0-9_.-].</summary>
    public static void ValidateRunId(string runId)
    {
        if (string.IsNullOrEmpty(runId) || runId.Length > MaxRunIdLength)
            throw new ArgumentException($"run id must be 1..{MaxRunIdLength} characters (got '{runId}').", nameof(runId));
        foreach (char c in runId)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.';
            if (!ok)
                throw new ArgumentException(
                    $"run id '{runId}' contains '{c}'; only letters, digits, '_', '-' and '.' are allowed (keys are 'distsac:<run>:...').",
                    nameof(runId));
        }
    }

    private static string ShardPrefix(string runId, int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        return $"{Prefix(runId)}shard:{shard}:";
    }

    private static string Checked(string runId)
    {
        ValidateRunId(runId);
        return runId;
    }
}
