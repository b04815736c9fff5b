using System.Globalization;

namespace DistSac.Replay;

/// <summary>
/// What the learner tells the run about itself: updates done, the last published weights version, and whether training
/// finished (a normal end; a stopped learner may be resumed and does not set it). Stored in the learner hash and sent
/// on the learner channel as "updates version finished".
/// </summary>
public readonly record struct LearnerProgress(long Updates, long WeightsVersion, bool Finished)
{
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Updates} {WeightsVersion} {(Finished ? 1 : 0)}");

    /// <summary>Parses <see cref="Format"/>'s output; false for anything else (a message from another program is ignored).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out LearnerProgress progress)
    {
        progress = default;
        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, ' ') != 3) return false;
        var c = CultureInfo.InvariantCulture;
        if (!long.TryParse(text[parts[0]], NumberStyles.None, c, out var updates)
            || !long.TryParse(text[parts[1]], NumberStyles.None, c, out var version)
            || text[parts[2]] is not ("0" or "1"))
            return false;
        progress = new LearnerProgress(updates, version, text[parts[2]] is "1");
        return true;
    }
}
