using System.Globalization;
using System.Text.RegularExpressions;
using DistSac.Processes;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>redis-benchmark runs with one push's payload: the raw-Redis ceilings `bench ingest` compares against.</summary>
public static partial class RedisBenchmarkTool
{
    /// <summary>Raw redis-benchmark requests/s; null where redis-benchmark is missing or failed.</summary>
    public sealed record Baselines(double? Set, double? SetRange, double? Hset);

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?) requests per second")]
    private static partial Regex RequestsPerSecond();

    public static async Task<Baselines> BaselinesAsync(RedisLauncher redis, int port, int clients, int batch, int recordBytes, CancellationToken ct)
    {
        static string N(int v) => v.ToString(CultureInfo.InvariantCulture);
        int bytes = batch * recordBytes;
        string[] common = ["-h", "127.0.0.1", "-p", N(port), "-c", N(clients), "-q"];
        var set = await RunAsync(redis, [.. common, "-n", "20000", "-t", "set", "-d", N(bytes)], ct);
        var setRange = await RunAsync(redis, [.. common, "-n", "20000", "SETRANGE", "bench:setrange", "0", new string('x', bytes)], ct);
        // One HSET of `batch` fields of one record each is the Redis work of the insert script without Lua: the layout's ceiling.
        var hash = new List<string>(common) { "-n", N(Math.Max(1000, 1_000_000 / batch)), "HSET", "bench:hset" };
        for (int i = 0; i < batch; i++) hash.AddRange([N(i), new string('x', recordBytes)]);
        var hset = await RunAsync(redis, hash, ct);
        return new Baselines(set, setRange, hset);
    }

    private static async Task<double?> RunAsync(RedisLauncher redis, IEnumerable<string> args, CancellationToken ct)
    {
        IReadOnlyList<string>? lines;
        try
        {
            lines = await redis.RunToolAsync("redis-benchmark", args, TimeSpan.FromSeconds(60), ct);
        }
        catch (TimeoutException)
        {
            Say("redis-benchmark did not finish within 60 s; its figure is left out");
            return null;
        }
        if (lines is null)
        {
            Say("redis-benchmark is not installed (apt-get install redis-tools); its figures are left out");
            return null;
        }
        // -q prints progress lines, then "<TEST>: <n> requests per second, p50=..." last.
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            var match = RequestsPerSecond().Match(lines[i]);
            if (match.Success) return Math.Round(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), 1);
        }
        Say($"redis-benchmark printed no requests/s ({(lines.Count > 0 ? lines[^1] : "no output")})");
        return null;
    }
}
