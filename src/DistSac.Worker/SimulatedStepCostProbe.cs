using System.Globalization;

namespace DistSac.Worker;

/// <summary>
/// What the simulated simulator costs on its own: a thread pays the same <see cref="SimulatedStepCost"/> at the same
/// pace as one worker's rollout loop, with nothing else to do, and reads its own CPU time in nanoseconds
/// (/proc/thread-self/schedstat; the 10 ms ticks of /proc/PID/stat are too coarse for a few ms per second).
/// `bench scale` runs one through its timed window, so the sleeping simulator's wake-ups, which the worker processes'
/// CPU includes, are measured under the same load and can be shown and taken out as their own figure.
/// </summary>
public sealed class SimulatedStepCostProbe
{
    private const string ThreadCpuFile = "/proc/thread-self/schedstat";

    private readonly SimulatedStepCost _cost;
    private readonly int _environments;
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _envSteps;
    private long _cpuNanoseconds = -1;

    private SimulatedStepCostProbe(int microsecondsPerEnvStep, int environments, SimulatedCostMode mode)
    {
        // A free step would make the thread a busy loop measuring nothing.
        ArgumentOutOfRangeException.ThrowIfLessThan(microsecondsPerEnvStep, 1);
        _cost = new SimulatedStepCost(microsecondsPerEnvStep, environments, mode);
        _environments = environments;
        _thread = new Thread(Run) { IsBackground = true, Name = "simulator probe" };
    }

    /// <summary>Starts paying <paramref name="microsecondsPerEnvStep"/> per env step for <paramref name="environments"/> envs.</summary>
    public static SimulatedStepCostProbe Start(int microsecondsPerEnvStep, int environments, SimulatedCostMode mode)
    {
        var probe = new SimulatedStepCostProbe(microsecondsPerEnvStep, environments, mode);
        probe._thread.Start();
        return probe;
    }

    /// <summary>Stops the thread; returns its CPU microseconds per env step, or null where thread CPU time cannot be read.</summary>
    public double? Stop()
    {
        _stop = true;
        _thread.Join();
        return _cpuNanoseconds < 0 || _envSteps == 0 ? null : _cpuNanoseconds / 1000.0 / _envSteps;
    }

    private void Run()
    {
        long? start = ThreadCpuNanoseconds();
        long steps = 0;
        while (!_stop)
        {
            _cost.Pay();
            steps += _environments;
        }

        long? end = ThreadCpuNanoseconds();
        _envSteps = steps;
        if (start is { } s && end is { } e)
        {
            _cpuNanoseconds = e - s;
        }
    }

    /// <summary>The calling thread's CPU time (schedstat's first field: time on the CPU, ns); null where not available.</summary>
    internal static long? ThreadCpuNanoseconds()
    {
        try
        {
            string text = File.ReadAllText(ThreadCpuFile);
            int space = text.IndexOf(' ', StringComparison.Ordinal);
            return long.TryParse(space > 0 ? text.AsSpan(0, space) : text.AsSpan(), NumberStyles.None, CultureInfo.InvariantCulture, out long ns) ? ns : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
