namespace DistSac.Learning.Replay;

/// <summary>
/// One transition as a fixed row of float32: obs (O), action (A), reward, next_obs (O), terminated.
/// The learner slices a [B, RowSize] batch into these columns without copying.
/// </summary>
public readonly record struct TransitionLayout(int ObservationSize, int ActionSize)
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "An instance member like the other offsets, so the layout reads as one set of columns.")]
    public int ObservationOffset => 0;
    public int ActionOffset => ObservationSize;
    public int RewardOffset => ObservationSize + ActionSize;
    public int NextObservationOffset => ObservationSize + ActionSize + 1;
    public int TerminatedOffset => 2 * ObservationSize + ActionSize + 1;
    public int RowSize => 2 * ObservationSize + ActionSize + 2;

    public void Write(Span<float> row, ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward, ReadOnlySpan<float> nextObservation, bool terminated)
    {
        observation.CopyTo(row.Slice(ObservationOffset, ObservationSize));
        action.CopyTo(row.Slice(ActionOffset, ActionSize));
        row[RewardOffset] = reward;
        nextObservation.CopyTo(row.Slice(NextObservationOffset, ObservationSize));
        row[TerminatedOffset] = terminated ? 1f : 0f;
    }
}
