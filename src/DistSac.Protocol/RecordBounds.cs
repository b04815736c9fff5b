using System.Globalization;

namespace DistSac.Protocol;

/// <summary>
/// The accepted range of every float of a packed record: observation and next observation inside the observation box,
/// action inside the action box, reward inside the environment's reward range, each widened by a small tolerance for
/// float rounding; a dimension the environment leaves unbounded is held to +-MaxAbsValue, so no finite but absurd
/// value (3e38) reaches the learner. Built once per run; <see cref="Validate"/> allocates nothing unless it fails.
/// </summary>
public sealed class RecordBounds
{
    /// <summary>Default limit for values an environment leaves unbounded (Gateway:MaxAbsValue; the learner's screen uses it too).</summary>
    public const double DefaultMaxAbsValue = 1e6;

    /// <summary>Relative slack on a finite bound (with an absolute floor of the same size near 0): float32 rounding only.</summary>
    public const float RelativeTolerance = 1e-5f;

    private readonly float[] _low;
    private readonly float[] _high;
    private readonly float[] _shownLow;
    private readonly float[] _shownHigh;
    private readonly bool[] _fromMagnitudeLimit;

    private RecordBounds(TransitionRecord layout, string source, float maxAbsValue)
    {
        Layout = layout;
        Source = source;
        MaxAbsValue = maxAbsValue;
        int n = layout.FloatCount;
        _low = new float[n];
        _high = new float[n];
        _shownLow = new float[n];
        _shownHigh = new float[n];
        _fromMagnitudeLimit = new bool[n];
    }

    public TransitionRecord Layout { get; }

    /// <summary>Where the bounds come from, for messages, e.g. "Pendulum-v1".</summary>
    public string Source { get; }

    public float MaxAbsValue { get; }

    /// <param name="source">Named in error messages (the environment id).</param>
    /// <param name="maxAbsValue">Limit for every dimension whose bound is infinite (Gateway:MaxAbsValue).</param>
    public static RecordBounds Create(string source, ReadOnlySpan<float> observationLow, ReadOnlySpan<float> observationHigh,
        ReadOnlySpan<float> actionLow, ReadOnlySpan<float> actionHigh, float rewardLow, float rewardHigh, float maxAbsValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (observationLow.Length == 0 || observationLow.Length != observationHigh.Length)
            throw new ArgumentException($"observation bounds must be non-empty and of equal length (got {observationLow.Length} and {observationHigh.Length}).");
        if (actionLow.Length == 0 || actionLow.Length != actionHigh.Length)
            throw new ArgumentException($"action bounds must be non-empty and of equal length (got {actionLow.Length} and {actionHigh.Length}).");
        if (!float.IsFinite(maxAbsValue) || maxAbsValue <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxAbsValue), maxAbsValue, "the magnitude limit must be finite and > 0.");

        var layout = new TransitionRecord(observationLow.Length, actionLow.Length);
        var bounds = new RecordBounds(layout, source, maxAbsValue);
        for (int k = 0; k < layout.ObservationSize; k++)
        {
            bounds.Set(k, observationLow[k], observationHigh[k]);
            bounds.Set(layout.NextObservationOffset + k, observationLow[k], observationHigh[k]);
        }
        for (int k = 0; k < layout.ActionSize; k++)
            bounds.Set(layout.ActionOffset + k, actionLow[k], actionHigh[k]);
        bounds.Set(layout.RewardOffset, rewardLow, rewardHigh);
        // Terminated is checked for exactly 0 or 1 on its own; the range here only keeps the loop branch-free.
        bounds.Set(layout.TerminatedOffset, 0f, 1f);
        return bounds;
    }

    /// <summary>
    /// Checks a packed batch: exact length, every value inside its bounds (which also rules out NaN and infinities),
    /// terminated exactly 0 or 1, policy version >= -1. Returns null when valid, else a message naming the first bad
    /// record, its field, the value and the bound.
    /// </summary>
    public string? Validate(ReadOnlySpan<byte> records, int count)
    {
        var layout = Layout;
        if (count < 1) return $"transition_count must be >= 1 (got {count}).";
        if (records.Length != (long)count * layout.RecordBytes)
            return $"records has {records.Length} bytes; {count} transitions of {layout.RecordBytes} bytes need {(long)count * layout.RecordBytes}.";
        var low = _low.AsSpan();
        var high = _high.AsSpan();
        for (int i = 0; i < count; i++)
        {
            var record = records.Slice(i * layout.RecordBytes, layout.RecordBytes);
            var floats = layout.Floats(record);
            for (int k = 0; k < floats.Length; k++)
            {
                float v = floats[k];
                // Written so NaN fails too: every comparison with NaN is false.
                if (!(v >= low[k] && v <= high[k])) return Describe(i, k, v);
            }
            var t = floats[layout.TerminatedOffset];
            if (t != 0f && t != 1f) return $"record {i} has terminated = {Format(t)}; it must be 0 or 1.";
            int version = layout.PolicyVersion(record);
            if (version < -1) return $"record {i} has policy version {version}; it must be >= -1 (-1 = random warm-up action).";
        }
        return null;
    }

    private void Set(int index, float low, float high)
    {
        _fromMagnitudeLimit[index] = float.IsInfinity(low) || float.IsInfinity(high);
        _shownLow[index] = float.IsNegativeInfinity(low) ? -MaxAbsValue : low;
        _shownHigh[index] = float.IsPositiveInfinity(high) ? MaxAbsValue : high;
        _low[index] = float.IsNegativeInfinity(low) ? -MaxAbsValue : low - Slack(low);
        _high[index] = float.IsPositiveInfinity(high) ? MaxAbsValue : high + Slack(high);
    }

    private static float Slack(float bound) => RelativeTolerance * MathF.Max(1f, MathF.Abs(bound));

    private string Describe(int record, int floatIndex, float value)
    {
        string field = Layout.FieldName(floatIndex);
        if (!float.IsFinite(value)) return $"record {record} has a non-finite value ({Format(value)}) in {field}.";
        if (floatIndex == Layout.TerminatedOffset) return $"record {record} has terminated = {Format(value)}; it must be 0 or 1.";
        string range = $"[{Format(_shownLow[floatIndex])}, {Format(_shownHigh[floatIndex])}]";
        string what = _fromMagnitudeLimit[floatIndex]
            ? $"the magnitude limit for values {Source} does not bound (Gateway:MaxAbsValue)"
            : Layout.FieldKind(floatIndex) switch
            {
                RecordField.Action => $"the action bounds of {Source}",
                RecordField.Reward => $"the reward range of {Source}",
                _ => $"the observation bounds of {Source}",
            };
        return $"record {record} has {field} = {Format(value)}, outside {range}, {what}.";
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
