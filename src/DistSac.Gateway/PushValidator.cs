using DistSac.Protocol;

namespace DistSac.Gateway;

/// <summary>
/// Boundary checks on a pushed batch, in the order a client would fix them. Pure: no I/O, so a bad batch is refused
/// before anything touches Redis. Each message names the field, the value and what is accepted.
/// </summary>
public static class PushValidator
{
    /// <summary>Worker ids become part of Redis keys and log lines; 128 characters is plenty for "pod-name/index".</summary>
    public const int MaxWorkerIdLength = 128;

    /// <summary>Headroom for the protobuf framing around the records in one message.</summary>
    private const int EnvelopeBytes = 4096;

    /// <summary>
    /// Largest transition_count for this record layout: <see cref="ProtocolLimits.MaxBatchTransitions"/>, or fewer when
    /// records are so large that a full batch would not fit in one <see cref="ProtocolLimits.MaxMessageBytes"/> message.
    /// </summary>
    public static int MaxTransitions(TransitionRecord schema) =>
        (int)Math.Max(1, Math.Min(ProtocolLimits.MaxBatchTransitions, (ProtocolLimits.MaxMessageBytes - EnvelopeBytes) / (long)schema.RecordBytes));

    /// <summary>What <see cref="ValidateWorkerId"/> accepts, exactly as its error message says it.</summary>
    public const string WorkerIdCharacters = "ASCII letters A-Z and a-z, digits 0-9 and - _ . / :";

    /// <summary>
    /// Worker ids become part of Redis hash fields and log lines: 1..128 characters of <see cref="WorkerIdCharacters"/>
    /// (pod names, host names, "pod-name/index"). A refused id is quoted with every other character escaped (\u0007),
    /// so nothing a client sends reaches a status message or a log line raw.
    /// </summary>
    public static string? ValidateWorkerId(string? workerId)
    {
        if (string.IsNullOrEmpty(workerId))
            return "worker_id is empty; give each worker a stable unique id (e.g. its pod name).";
        if (workerId.Length > MaxWorkerIdLength)
            return $"worker_id has {workerId.Length} characters; at most {MaxWorkerIdLength} are accepted.";
        for (int i = 0; i < workerId.Length; i++)
        {
            if (!IsWorkerIdCharacter(workerId[i]))
                return $"worker_id \"{Escape(workerId)}\" has \"{Escape(workerId.AsSpan(i, 1))}\" at index {i}; use only {WorkerIdCharacters}.";
        }
        return null;
    }

    public static bool IsWorkerIdCharacter(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or '/' or ':';

    /// <summary>The text with every character outside printable ASCII (and the backslash and quote) written as \uXXXX.</summary>
    public static string Escape(ReadOnlySpan<char> text)
    {
        var escaped = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is >= ' ' and <= '~' and not '\\' and not '"') escaped.Append(c);
            else escaped.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return escaped.ToString();
    }

    /// <summary>Checks everything that needs no schema: worker id, incarnation, sequence, transition_count.</summary>
    public static string? ValidateHeader(string? workerId, long incarnation, long sequence, int transitionCount)
    {
        if (ValidateWorkerId(workerId) is { } bad) return bad;
        if (incarnation < 1)
            return $"incarnation is {incarnation}; every push carries RunInfo.incarnation (> 0) from this worker's GetRunInfo, " +
                   "so a restarted worker never collides with what it stored before (a client built before PushRequest.incarnation existed must be updated).";
        if (sequence < 0)
            return $"sequence is {sequence}; it must be >= 0 (per worker incarnation 0, 1, 2, ...; a retry reuses the number).";
        if (transitionCount < 1)
            return $"transition_count is {transitionCount}; a push carries at least 1 transition.";
        if (transitionCount > ProtocolLimits.MaxBatchTransitions)
            return $"transition_count is {transitionCount}; at most {ProtocolLimits.MaxBatchTransitions} (RunInfo.max_batch_transitions) per push, split the batch.";
        return null;
    }

    /// <summary>
    /// Full check against the run's record layout and bounds: header, exact byte length, then every value (inside the
    /// environment's spaces or the magnitude limit, terminated 0 or 1).
    /// </summary>
    public static string? Validate(string? workerId, long incarnation, long sequence, int transitionCount, ReadOnlySpan<byte> records, RecordBounds bounds)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        var schema = bounds.Layout;
        if (ValidateHeader(workerId, incarnation, sequence, transitionCount) is { } bad) return bad;
        int max = MaxTransitions(schema);
        if (transitionCount > max)
            return $"transition_count is {transitionCount}; records of {schema.RecordBytes} bytes allow at most {max} (RunInfo.max_batch_transitions) per push, split the batch.";
        long expected = (long)transitionCount * schema.RecordBytes;
        if (records.Length != expected)
            return $"records has {records.Length} bytes but transition_count {transitionCount} x record_bytes {schema.RecordBytes} = {expected}; " +
                   $"pack records as RunInfo describes (observation_size {schema.ObservationSize}, action_size {schema.ActionSize}).";
        return bounds.Validate(records, transitionCount);
    }
}
