using System.Diagnostics;

namespace DistSac.Worker;

/// <summary>How a simulated simulator spends its time.</summary>
public enum SimulatedCostMode
{
    /// <summary>Busy-wait: the simulator runs in the worker's own process and competes for its core.</summary>
    Spin,

    /// <summary>Wait without using the CPU: the simulator runs elsewhere (another process, machine or accelerator).</summary>
    Sleep,
}

/// <summary>
/// Stands in for an expensive simulator in scaling benchmarks: every vector step costs a fixed time per environment.
/// Sleep mode paces against a running deadline, so the long-run rate is exact even though a sleep has millisecond
/// granularity (a shortfall is carried to the next step; a late step is not made up, as a real simulator would not).
/// </summary>
public sealed class SimulatedStepCost
{
    private static readonly long OneMillisecond = Stopwatch.Frequency / 1000;
    private readonly long _ticksPerStep;
    private readonly SimulatedCostMode _mode;
    private long _due;

    public SimulatedStepCost(int microsecondsPerEnvStep, int environments, SimulatedCostMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microsecondsPerEnvStep);
        ArgumentOutOfRangeException.ThrowIfLessThan(environments, 1);
        _ticksPerStep = microsecondsPerEnvStep * Stopwatch.Frequency / 1_000_000L * environments;
        _mode = mode;
    }

    public bool IsFree => _ticksPerStep == 0;

    /// <summary>Spends one vector step's cost.</summary>
    public void Pay()
    {
        if (_ticksPerStep == 0) return;
        long now = Stopwatch.GetTimestamp();
        if (_mode == SimulatedCostMode.Spin)
        {
            long until = now + _ticksPerStep;
            while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(8);
            return;
        }
        _due = Math.Max(_due, now) + _ticksPerStep;
        long ahead = _due - now;
        if (ahead >= OneMillisecond) Thread.Sleep((int)(ahead / OneMillisecond));
    }
}
