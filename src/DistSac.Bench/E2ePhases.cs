using System.Globalization;

namespace DistSac.Bench;

/// <summary>
/// When the milestones of a `distsac local` run showed up in its merged output, in seconds since the command started:
/// the learner ready (start-up done: processes, Redis, TorchSharp, JIT of the start), the first learner metrics line
/// whose deterministic evaluation reaches the target, the learner's end-of-run evaluation, and `local` done stopping its
/// children (its "run directory:" line; the learning-curve plot follows). Fed one line at a time
/// from the child's output thread; read after the child exited.
/// </summary>
public sealed class E2ePhases(double targetReturn)
{
    private const string LearnerPrefix = "[learner] ";
    private const string EvalField = "| eval ";

    public double? LearnerReady { get; private set; }
    public double? TargetReached { get; private set; }
    public double? FinalEvaluation { get; private set; }
    public double? ChildrenStopped { get; private set; }

    public void Observe(string line, double seconds)
    {
        if (ChildrenStopped is null && line.StartsWith("[local] run directory:", StringComparison.Ordinal)) ChildrenStopped = seconds;
        if (!line.StartsWith(LearnerPrefix, StringComparison.Ordinal)) return;
        if (LearnerReady is null && line.Contains("Learner ready", StringComparison.Ordinal)) LearnerReady = seconds;
        else if (TargetReached is null && EvalReturn(line) is { } eval && eval >= targetReturn) TargetReached = seconds;
        else if (FinalEvaluation is null && line.AsSpan(LearnerPrefix.Length).StartsWith("final deterministic evaluation", StringComparison.Ordinal)) FinalEvaluation = seconds;
    }

    /// <summary>The number after "| eval " in a learner metrics line; null for "-" (no evaluation in this line) or any other line.</summary>
    public static double? EvalReturn(string line)
    {
        int at = line.IndexOf(EvalField, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = line.AsSpan(at + EvalField.Length);
        int end = rest.IndexOf(' ');
        if (end >= 0) rest = rest[..end];
        return double.TryParse(rest, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
    }
}
