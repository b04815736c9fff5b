using System.Globalization;
using System.Text.Json;

namespace DistSac.Bench;

/// <summary>
/// How every benchmark reports: one snake_case JSON line on stdout (docs/benchmarks.md and bench/*.sh read its field
/// names), progress on stderr with a "[bench]" prefix, and the rounding that keeps NaN (an unreadable CPU time) out of JSON.
/// </summary>
public static class BenchOutput
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The JSON line of a result object (snake_case field names).</summary>
    public static string Serialize(object line) => JsonSerializer.Serialize(line, Json);

    public static void Say(string line) => Console.Error.WriteLine($"[bench] {line}");

    /// <summary>NaN (a CPU time that could not be read) becomes null: JSON has no NaN.</summary>
    public static double? Round(double value) => double.IsFinite(value) ? Math.Round(value, 2) : null;

    public static double? Round4(double value) => double.IsFinite(value) ? Math.Round(value, 4) : null;

    /// <summary>Cores to three decimals: the gateway bars (0.01, 0.03) need more than the usual two; NaN becomes null.</summary>
    public static double? Cores3(double value) => double.IsFinite(value) ? Math.Round(value, 3) : null;

    /// <summary>Seconds to one decimal; null stays null (a phase that was not seen).</summary>
    public static double? S(double? seconds) => seconds is { } v ? Math.Round(v, 1) : null;

    public static string Today() => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Inv(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    public static void TryDeleteDirectory(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
