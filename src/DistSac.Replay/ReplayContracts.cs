using DistSac.Settings;
using Microsoft.Extensions.Options;

namespace DistSac.Replay;

/// <summary>Where the shards are and how big they are (configuration section "Replay").</summary>
public sealed record ReplayOptions
{
    /// <summary>Run id; every key is "distsac:{RunId}:...", so runs can share a Redis.</summary>
    public string RunId { get; init; } = "default";
    /// <summary>Shard endpoints "host:port", one per redis-server; every shard also holds a copy of the run-level keys.</summary>
    public string[] Shards { get; init; } = ["127.0.0.1:6379"];
    /// <summary>Ring capacity of each shard in transitions; oldest are evicted first (FIFO).</summary>
    public long CapacityPerShard { get; init; } = 1_000_000;
    /// <summary>Redis password (DISTSAC_REPLAY__PASSWORD); never a flag, which every local user could read in ps.</summary>
    public string? Password { get; init; }
    /// <summary>File holding the Redis password (e.g. a mounted Secret), read at each connect; excludes <see cref="Password"/>.</summary>
    public string? PasswordFile { get; init; }
    public int ConnectTimeoutMs { get; init; } = 5000;
    /// <summary>Redis ACL user (Redis 6+; docs/security.md lists each role's ACL); empty authenticates as "default".</summary>
    public string? User { get; init; }

    /// <summary>
    /// Throws <see cref="System.ComponentModel.DataAnnotations.ValidationException"/> ("Replay:Key = value is invalid: ...")
    /// for the first bad value. <see cref="ShardedReplay.ConnectAsync(ReplayOptions, Microsoft.Extensions.Logging.ILogger?, ShardReaderThreads, CancellationToken)"/> runs it, so every role checks the same way.
    /// </summary>
    public void Validate() => SettingsValidation.ThrowIfInvalid(this, "Replay", Rules.Instance);

    private sealed class Rules : IValidateOptions<ReplayOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, ReplayOptions o)
        {
            var failures = new SettingsValidation.Failures(name!);
            failures.Check(() => RunKeys.ValidateRunId(o.RunId), nameof(RunId), o.RunId);
            failures.Require(o.Shards is { Length: > 0 }, nameof(Shards), "[]", "list at least one shard endpoint host:port");
            failures.Require(o.CapacityPerShard is >= 1 and <= ReplayLimits.MaxCapacityPerShard, nameof(CapacityPerShard), o.CapacityPerShard,
                $"must be in [1, {ReplayLimits.MaxCapacityPerShard}]");
            failures.Require(o.ConnectTimeoutMs >= 1, nameof(ConnectTimeoutMs), o.ConnectTimeoutMs, "must be >= 1");
            return failures.Result;
        }
    }

    /// <summary>The password from <see cref="PasswordFile"/> (first line) or <see cref="Password"/>; null for none.</summary>
    public string? ResolvePassword()
    {
        if (string.IsNullOrEmpty(PasswordFile)) return string.IsNullOrEmpty(Password) ? null : Password;
        if (!string.IsNullOrEmpty(Password))
            throw new ArgumentException("Replay:Password and Replay:PasswordFile are both set; set one (the file is preferred).");
        if (!File.Exists(PasswordFile))
            throw new ArgumentException($"Replay:PasswordFile '{PasswordFile}' does not exist; write the Redis password into it.");
        var line = File.ReadLines(PasswordFile).FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(line)
            ? throw new ArgumentException($"Replay:PasswordFile '{PasswordFile}' is empty; write the Redis password into it.")
            : line;
    }
}

/// <summary>
/// Description of a run, written by the learner into "distsac:{run}:meta" and checked by everyone. Everything but
/// <see cref="RateLimit"/> is fixed when the run is created; the rate-limit contract is the learner's to change: a learner
/// restarted with other settings rewrites it, and gateways follow (see <see cref="RateLimitContract"/>).
/// </summary>
/// <param name="RateLimit">The learner's samples-per-insert contract; null (a run created without one) holds nothing.</param>
public sealed record ReplayMetadata(
    string RunId, string EnvId, int ObservationSize, int ActionSize, int RecordBytes, long Seed,
    long WarmupTransitions, long CapacityPerShard, int ShardCount, int SchemaVersion, RateLimitContract? RateLimit = null);

public readonly record struct InsertResult(int Stored, bool Duplicate, int Shard, long ShardTotalInserted);

public readonly record struct ShardStats(int Shard, long Fill, long Cursor, long TotalInserted);

public sealed record ReplayStats(IReadOnlyList<ShardStats> Shards)
{
    public long Fill { get { long s = 0; foreach (var x in Shards) s += x.Fill; return s; } }
    public long TotalInserted { get { long s = 0; foreach (var x in Shards) s += x.TotalInserted; return s; } }
}

/// <summary>Raised when the run's stored metadata conflicts with the caller's (different env, sizes, shard count).</summary>
public sealed class ReplaySchemaMismatchException(string message) : Exception(message);
