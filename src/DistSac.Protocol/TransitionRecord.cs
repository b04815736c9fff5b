using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace DistSac.Protocol;

/// <summary>
/// The packed transition record shared by workers, gateway, Redis and learner (little-endian):
/// float32 obs[O], float32 action[A], float32 reward, float32 next_obs[O], float32 terminated, int32 policy_version.
/// The first 2O + A + 2 floats are exactly the learner's batch row, so a sampled batch is copied, not decoded.
/// </summary>
public readonly record struct TransitionRecord(int ObservationSize, int ActionSize)
{
    public int FloatCount => 2 * ObservationSize + ActionSize + 2;
    public int RecordBytes => ProtocolLimits.RecordBytes(ObservationSize, ActionSize);
    public int ActionOffset => ObservationSize;
    public int RewardOffset => ObservationSize + ActionSize;
    public int NextObservationOffset => ObservationSize + ActionSize + 1;
    public int TerminatedOffset => 2 * ObservationSize + ActionSize + 1;
    public int VersionByteOffset => 4 * FloatCount;

    public void Write(Span<byte> record, ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward,
        ReadOnlySpan<float> nextObservation, bool terminated, int policyVersion)
    {
        var floats = MemoryMarshal.Cast<byte, float>(record[..(4 * FloatCount)]);
        observation[..ObservationSize].CopyTo(floats);
        action[..ActionSize].CopyTo(floats[ActionOffset..]);
        floats[RewardOffset] = reward;
        nextObservation[..ObservationSize].CopyTo(floats[NextObservationOffset..]);
        floats[TerminatedOffset] = terminated ? 1f : 0f;
        BinaryPrimitives.WriteInt32LittleEndian(record[VersionByteOffset..], policyVersion);
    }

    public ReadOnlySpan<float> Floats(ReadOnlySpan<byte> record) => MemoryMarshal.Cast<byte, float>(record[..(4 * FloatCount)]);

    public int PolicyVersion(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[VersionByteOffset..]);

    /// <summary>
    /// Checks a packed batch: exact length, every float finite, terminated exactly 0 or 1, version non-negative.
    /// Returns null when valid, else a message naming the first bad record and field.
    /// </summary>
    public string? Validate(ReadOnlySpan<byte> records, int count)
    {
        if (count < 1) return $"transition_count must be >= 1 (got {count}).";
        if (records.Length != (long)count * RecordBytes)
            return $"records has {records.Length} bytes; {count} transitions of {RecordBytes} bytes need {(long)count * RecordBytes}.";
        for (int i = 0; i < count; i++)
        {
            var record = records.Slice(i * RecordBytes, RecordBytes);
            var floats = Floats(record);
            for (int k = 0; k < floats.Length; k++)
            {
                if (!float.IsFinite(floats[k])) return $"record {i} has a non-finite value ({floats[k]}) in {FieldName(k)}.";
            }
            var t = floats[TerminatedOffset];
            if (t != 0f && t != 1f) return $"record {i} has terminated = {t}; it must be 0 or 1.";
            if (PolicyVersion(record) < -1) return $"record {i} has policy version {PolicyVersion(record)}; it must be >= -1 (-1 = random warm-up action).";
        }
        return null;
    }

    /// <summary>The name of float <paramref name="floatIndex"/> of a record in messages: obs[i], action[i], reward, next_obs[i], terminated.</summary>
    public string FieldName(int floatIndex) =>
        floatIndex < ActionOffset ? $"obs[{floatIndex}]"
        : floatIndex < RewardOffset ? $"action[{floatIndex - ActionOffset}]"
        : floatIndex == RewardOffset ? "reward"
        : floatIndex < TerminatedOffset ? $"next_obs[{floatIndex - NextObservationOffset}]"
        : "terminated";

    public RecordField FieldKind(int floatIndex) =>
        floatIndex < ActionOffset ? RecordField.Observation
        : floatIndex < RewardOffset ? RecordField.Action
        : floatIndex == RewardOffset ? RecordField.Reward
        : floatIndex < TerminatedOffset ? RecordField.NextObservation
        : RecordField.Terminated;
}

/// <summary>The fields of a packed record, in order.</summary>
public enum RecordField
{
    Observation,
    Action,
    Reward,
    NextObservation,
    Terminated,
}
