namespace DistSac.Replay;

/// <summary>
/// The server-side chunk insert: one EVALSHA, so a chunk is wholly stored or not at all and no other client sees
/// a half-written chunk. KEYS: data hash, state hash, sequence hash, per-worker count hash.
/// ARGV: worker id, lane ("worker incarnation", or "worker incarnation +" for an explicit shard), sequence, the lane's
/// previous sequence (sequence - shard count, sequence - 1 for an explicit shard, or "" when there is none), capacity,
/// the shard's inserted channel, record...
/// Returns {stored, status, shard total inserted, lane sequence}: status 0 stored, 1 duplicate (lane sequence = the
/// lane's last), 2 gap (lane sequence = the lane's last; the expected one is last + shard count), 3 older than the
/// lane's first (lane sequence = that first).
/// </summary>
/// <remarks>
/// <para>
/// Exactly once: a lane is one (worker, incarnation) on one shard. Without an explicit shard the sequences routed to a
/// shard are those equal to its index modulo the shard count, so a lane holds "first last" and has stored exactly
/// first, first + S, ..., last; with one, the lane's own sequences are contiguous and it has stored first, first + 1,
/// ..., last. The script only sees "previous", so both are the same rule.
/// A push is stored only as the lane's next (previous == last) or as the start of a lane with no record; so an
/// answer "duplicate" always means the sequence is stored. Sequence numbers stay decimal strings and are compared
/// digit by digit: Lua numbers are doubles, exact only to 2^53, and 2^53 + 1 must not equal 2^53.
/// </para>
/// <para>
/// Record i of the chunk goes to slot (cursor + i) mod capacity. A chunk larger than the whole capacity keeps only its
/// last <c>capacity</c> records (the earlier ones would be overwritten by the later ones anyway); "total" still counts
/// all n, "stored" counts the kept ones. Before the ring is full cursor == fill, so slots [0, fill) are exactly the
/// stored ones and sampling draws slots uniformly from [0, fill).
/// </para>
/// </remarks>
internal static class InsertScript
{
    public const int Stored = 0;
    public const int Duplicate = 1;
    public const int Gap = 2;
    public const int OlderThanLane = 3;

    public const string Source = """
        local data, state, seqs, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
        local worker, lane, sequence, previous = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local capacity = tonumber(ARGV[5])
        local n = #ARGV - 6
        -- Canonical decimals (no sign, no leading zeros): shorter is smaller, equal lengths compare digit by digit.
        local function less(a, b)
          if #a ~= #b then return #a < #b end
          for i = 1, #a do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x < y end
          end
          return false
        end
        local st = redis.call('HMGET', state, 'cursor', 'fill', 'total', 'capacity')
        local cursor = tonumber(st[1]) or 0
        local fill = tonumber(st[2]) or 0
        local total = tonumber(st[3]) or 0
        if st[4] and tonumber(st[4]) ~= capacity then
          return redis.error_reply('ERR distsac: shard capacity is ' .. st[4] .. ' but this insert assumes ' .. ARGV[5])
        end
        local laneFirst = sequence
        local held = redis.call('HGET', seqs, lane)
        if held then
          local f, last = string.match(held, '^(%d+) (%d+)$')
          if not f then
            return redis.error_reply('ERR distsac: sequence record of lane ' .. lane .. ' is not "first last": ' .. held)
          end
          if not less(last, sequence) then
            if less(sequence, f) then return {0, 3, total, f} end
            return {0, 1, total, last}
          end
          if last ~= previous then return {0, 2, total, last} end
          laneFirst = f
        end
        local first = 1
        if n > capacity then first = n - capacity + 1 end
        local args = {}
        local k = 0
        for i = first, n do
          args[k + 1] = string.format('%d', (cursor + i - 1) % capacity)
          args[k + 2] = ARGV[6 + i]
          k = k + 2
          if k >= 2 * __PER_HSET__ then
            redis.call('HSET', data, unpack(args, 1, k))
            k = 0
          end
        end
        if k > 0 then redis.call('HSET', data, unpack(args, 1, k)) end
        cursor = (cursor + n) % capacity
        fill = math.min(fill + n, capacity)
        total = total + n
        redis.call('HSET', state, 'cursor', string.format('%d', cursor), 'fill', string.format('%d', fill),
          'total', string.format('%d', total), 'capacity', ARGV[5])
        redis.call('HSET', seqs, lane, laneFirst .. ' ' .. sequence)
        redis.call('HINCRBY', counts, worker, n)
        -- Wakes a learner waiting for transitions (no subscriber: a dictionary lookup, nothing sent).
        redis.call('PUBLISH', ARGV[6], string.format('%d', total))
        return {n - first + 1, 0, total, sequence}
        """;

    /// <summary>Number of ARGV entries before the records.</summary>
    public const int HeaderArguments = 6;

    public static string Text { get; } = Source.Replace("__PER_HSET__", ReplayLimits.RecordsPerHset.ToString(), StringComparison.Ordinal);
}
