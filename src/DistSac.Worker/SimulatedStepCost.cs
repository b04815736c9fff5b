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
/// Sleep mode paces against a running deadline and sleeps once at least <see cref="SleepQuantum"/> is owed: the long-run
/// rate is exact, a late step is not made up (a real simulator would not), and the emulation's own wake-ups stay rare
/// (one sleep per 1 ms step cost about 80 us of CPU on the development VM, ten times the step itself).
/// </summary>
public sealed class SimulatedStepCost
{
    /// <summary>The least owed time that is slept off at once.</summary>
    public static readonly TimeSpan SleepQuantum = TimeSpan.FromMilliseconds(10);

    private static readonly long OneMillisecond = Stopwatch.Frequency / 1000;
    private static readonly long QuantumTicks = (long)(SleepQuantum.TotalSeconds * Stopwatch.Frequency);
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
        if (ahead >= QuantumTicks) Thread.Sleep((int)(ahead / OneMillisecond));
    }
}
