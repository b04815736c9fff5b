using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// Run-level keys (metadata, weights, learner progress, worker registry) are kept on every shard, so no shard is special:
/// while any one is down the others serve the run. Writes go to every shard that answers; reads take the first shard
/// that answers (metadata) or the newest copy among those that answer (weights, progress). See docs/reliability.md.
/// </summary>
public sealed partial class ShardedReplay
{
    // Redis answers these while it cannot serve yet (loading its append-only file after a restart, a busy script):
    // for a copy of the run state that is the same as being down.
    private static readonly string[] NotServingErrors = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"];

    // 1 while shard i missed a write of the run state (metadata, weights, progress) because it was unreachable: it may
    // serve an older copy once it is back, until the owner (the learner) writes it again (ShardsNeedingRunStateAsync).
    private readonly int[] _runStateMissed;

    /// <summary>One shard's answer to <see cref="AskEveryShardAsync{T}"/>: its value, or why it did not answer.</summary>
    private readonly record struct ShardAnswer<T>(T Value, ReplayUnavailableException? Down)
    {
        public bool Answered => Down is null;
    }

    /// <summary>
    /// Runs <paramref name="ask"/> on every shard in parallel. A shard that cannot serve (connection down, timeout, still
    /// loading) answers <see cref="ShardAnswer{T}.Down"/>; any other failure (corrupt data, a bug) is thrown. When no
    /// shard answered, throws the lowest shard's <see cref="ReplayUnavailableException"/>.
    /// </summary>
    private async Task<ShardAnswer<T>[]> AskEveryShardAsync<T>(Func<ReplayShard, Task<T>> ask)
    {
        var tasks = new Task<ShardAnswer<T>>[ShardCount];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = AskAsync(_shards[i], ask);
        var answers = await Task.WhenAll(tasks).ConfigureAwait(false);
        foreach (var a in answers)
        {
            if (a.Answered) return answers;
        }
        throw answers[0].Down!;
    }

    private static async Task<ShardAnswer<T>> AskAsync<T>(ReplayShard shard, Func<ReplayShard, Task<T>> ask)
    {
        try
        {
            return new ShardAnswer<T>(await ask(shard).ConfigureAwait(false), null);
        }
        catch (ReplayUnavailableException e)
        {
            return new ShardAnswer<T>(default!, e);
        }
        catch (RedisServerException e) when (IsNotServing(e))
        {
            return new ShardAnswer<T>(default!, shard.Unavailable(e));
        }
        catch (RedisConnectionException e)
        {
            return new ShardAnswer<T>(default!, shard.Unavailable(e));
        }
        catch (RedisTimeoutException e)
        {
            return new ShardAnswer<T>(default!, shard.Unavailable(e));
        }
    }

    /// <summary>
    /// Asks the shards one at a time, lowest index first, until one answers with a value <paramref name="accept"/> takes;
    /// the default value when every shard that answered had none; throws when no shard answered. One round trip while
    /// shard 0 is healthy; a disconnected shard fails at once (BacklogPolicy.FailFast), so skipping it costs nothing.
    /// </summary>
    private async Task<T> AskFirstShardAsync<T>(Func<ReplayShard, Task<T>> ask, Func<T, bool> accept)
    {
        ReplayUnavailableException? firstDown = null;
        bool anyAnswered = false;
        foreach (var shard in _shards)
        {
            var answer = await AskAsync(shard, ask).ConfigureAwait(false);
            if (!answer.Answered)
            {
                firstDown ??= answer.Down;
                continue;
            }
            if (accept(answer.Value)) return answer.Value;
            anyAnswered = true;
        }
        if (!anyAnswered) throw firstDown!;
        return default!;
    }

    /// <summary>
    /// Writes a part of the run state (the learner's: metadata, weights, progress) to every shard that answers. A shard
    /// that does not is remembered (and logged once per outage) so the learner writes the whole run state there again
    /// once it is back. Throws only when no shard took the write.
    /// </summary>
    private async Task WriteRunStateAsync<T>(Func<ReplayShard, Task<T>> write, string what)
    {
        var answers = await AskEveryShardAsync(write).ConfigureAwait(false);
        for (int i = 0; i < answers.Length; i++)
        {
            if (answers[i].Answered || Interlocked.Exchange(ref _runStateMissed[i], 1) != 0) continue;
            _logger.LogWarning("replay shard {Shard} at {Endpoint} missed the run's {What} ({Reason}); the other shards serve the run, and the shard gets " +
                               "the metadata, weights and progress again once it is back", i, _shards[i].Endpoint, what, answers[i].Down!.Message);
        }
    }

    /// <summary>
    /// The shards that answer but lack the run's metadata (restarted empty, flushed) or missed a write of the run state
    /// while they were down (restarted from an older append-only file): the owner writes the run state there again
    /// (<see cref="InitializeRunAsync"/>, then the weights and progress). One EXISTS per shard. Throws when no shard answers.
    /// </summary>
    public async Task<RunStateGaps> ShardsNeedingRunStateAsync(CancellationToken ct)
    {
        var answers = await AskEveryShardAsync(s => s.Guard(s.Database.KeyExistsAsync(_metaKey), ct)).ConfigureAwait(false);
        List<int>? missing = null, stale = null;
        for (int i = 0; i < answers.Length; i++)
        {
            if (!answers[i].Answered) continue;
            // Cleared before the owner rewrites: a write that fails again marks the shard again.
            bool missed = Interlocked.Exchange(ref _runStateMissed[i], 0) != 0;
            if (!answers[i].Value) (missing ??= []).Add(i);
            else if (missed) (stale ??= []).Add(i);
        }
        return new RunStateGaps(missing ?? [], stale ?? []);
    }

    private static bool IsNotServing(RedisServerException e)
    {
        foreach (var prefix in NotServingErrors)
        {
            if (e.Message.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}

/// <summary>Shards whose copy of the run state must be written again (see <see cref="ShardedReplay.ShardsNeedingRunStateAsync"/>).</summary>
/// <param name="MissingMetadata">Shards that answer without the run's metadata (restarted empty or flushed).</param>
/// <param name="Stale">Shards that hold the metadata but missed a write of the weights or progress while unreachable.</param>
public sealed record RunStateGaps(IReadOnlyList<int> MissingMetadata, IReadOnlyList<int> Stale)
{
    public bool Any => MissingMetadata.Count > 0 || Stale.Count > 0;
}
