namespace DistSac.Replay;

/// <summary>
/// The server-side chunk insert: one EVALSHA, so a chunk is wholly stored or not at all and no other client sees
/// a half-written chunk. KEYS: data hash, state hash, sequence hash, per-worker count hash. ARGV: worker id, sequence, capacity, record...
/// Returns {stored, duplicate (0/1), shard total inserted}.
/// </summary>
/// <remarks>
/// Record i of the chunk goes to slot (cursor + i) mod capacity. A chunk larger than the whole capacity keeps only its
/// last <c>capacity</c> records (the earlier ones would be overwritten by the later ones anyway); "total" still counts
/// all n, "stored" counts the kept ones. Before the ring is full cursor == fill, so slots [0, fill) are exactly the
/// stored ones and sampling draws slots uniformly from [0, fill).
/// </remarks>
internal static class InsertScript
{
    public const string Source = """
        local data, state, seqs, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
        local worker = ARGV[1]
        local sequence = tonumber(ARGV[2])
        local capacity = tonumber(ARGV[3])
        local n = #ARGV - 3
        local st = redis.call('HMGET', state, 'cursor', 'fill', 'total', 'capacity')
        local cursor = tonumber(st[1]) or 0
        local fill = tonumber(st[2]) or 0
        local total = tonumber(st[3]) or 0
        if st[4] and tonumber(st[4]) ~= capacity then
          return redis.error_reply('ERR distsac: shard capacity is ' .. st[4] .. ' but this insert assumes ' .. ARGV[3])
        end
        local last = redis.call('HGET', seqs, worker)
        if last and tonumber(last) >= sequence then
          return {0, 1, total}
        end
        local first = 1
        if n > capacity then first = n - capacity + 1 end
        local args = {}
        local k = 0
        for i = first, n do
          args[k + 1] = string.format('%d', (cursor + i - 1) % capacity)
          args[k + 2] = ARGV[3 + i]
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
          'total', string.format('%d', total), 'capacity', ARGV[3])
        redis.call('HSET', seqs, worker, ARGV[2])
        redis.call('HINCRBY', counts, worker, n)
        return {n - first + 1, 0, total}
        """;

    public static string Text { get; } = Source.Replace("__PER_HSET__", ReplayLimits.RecordsPerHset.ToString(), StringComparison.Ordinal);
}
