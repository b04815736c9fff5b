using DistSac.Replay;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner;

/// <summary>Checks one packed record; null when it may be trained on, else what is wrong with it.</summary>
public delegate string? RecordCheck(ReadOnlySpan<byte> record);

/// <summary>
/// The learner's defence where data is used: every sampled record is checked before it reaches the networks (the
/// gateway checks at the door, but Redis can be written by anything that reaches it). A bad record is quarantined:
/// its row is replaced by a good row of the same batch, it is counted, and it is logged once with its shard and slot.
/// It stays in Redis until the ring overwrites it, so it is never trained on but the audit of what was stored holds.
/// </summary>
public sealed class BatchScreen(int recordBytes, RecordCheck check, ILogger logger)
{
    // Bounded so a flood of bad records cannot grow the learner's memory; past it, records are still replaced and
    // counted, only the log line may repeat.
    private const int MaxRemembered = 4096;
    private readonly HashSet<(int Shard, long Slot)> _reported = [];

    /// <summary>Records replaced since start (one record sampled twice counts twice).</summary>
    public long Quarantined { get; private set; }

    /// <summary>Replaces each bad record of the batch in place; false when no record was good (skip the batch).</summary>
    public bool Screen(PrefetchedBatch batch)
    {
        var records = batch.Records.AsSpan(0, batch.Count * recordBytes);
        int firstGood = -1;
        List<int>? bad = null;
        for (int i = 0; i < batch.Count; i++)
        {
            var problem = check(records.Slice(i * recordBytes, recordBytes));
            if (problem is null)
            {
                if (firstGood < 0) firstGood = i;
                continue;
            }
            (bad ??= []).Add(i);
            Report(batch.Origins.Shard(i), batch.Origins.Slot(i), problem);
        }
        if (bad is null) return true;
        Quarantined += bad.Count;
        if (firstGood < 0) return false;
        var good = records.Slice(firstGood * recordBytes, recordBytes);
        foreach (var i in bad) good.CopyTo(records.Slice(i * recordBytes, recordBytes));
        return true;
    }

    private void Report(int shard, long slot, string problem)
    {
        if (_reported.Count >= MaxRemembered || !_reported.Add((shard, slot))) return;
        logger.LogWarning("replay shard {Shard} slot {Slot}: quarantined a record the learner will not train on: {Problem}", shard, slot, problem);
    }
}
