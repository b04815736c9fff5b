using System.Diagnostics;
using DistSac.Processes;

namespace DistSac.Bench;

/// <summary>CPU used, in cores, by this process and by the redis-servers over a measurement.</summary>
public readonly record struct CpuUse(double Process, double Redis);

/// <summary>Cores of this process and of the given redis-servers from <see cref="Start"/> until <see cref="Stop"/>.</summary>
public sealed class CpuMeter
{
    private readonly IReadOnlyList<RedisLauncher.Server> _servers;
    private readonly double _process0, _redis0;
    private readonly long _started = Stopwatch.GetTimestamp();

    private CpuMeter(IReadOnlyList<RedisLauncher.Server> servers)
    {
        _servers = servers;
        _process0 = ProcessCpu();
        _redis0 = RedisCpu();
    }

    public static CpuMeter Start(IReadOnlyList<RedisLauncher.Server> servers) => new(servers);

    public CpuUse Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        return new CpuUse((ProcessCpu() - _process0) / wall, (RedisCpu() - _redis0) / wall);
    }

    private static double ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private double RedisCpu()
    {
        double sum = 0;
        foreach (var s in _servers) sum += ProcessCpuTime.Seconds(s.Pid);
        return sum;
    }
}

/// <summary>Cores of a gateway process and a redis-server over a measurement, and the wall time it covered.</summary>
public readonly record struct ProcessCpu(double Gateway, double Redis, double WallSeconds);

/// <summary>CPU cores of the gateway and redis-server processes from construction until <see cref="Stop"/>.</summary>
public sealed class GatewayCpuMeter(int gatewayPid, int redisPid)
{
    private readonly double _gateway0 = ProcessCpuTime.Seconds(gatewayPid), _redis0 = ProcessCpuTime.Seconds(redisPid);
    private readonly long _started = Stopwatch.GetTimestamp();

    public ProcessCpu Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        return new ProcessCpu((ProcessCpuTime.Seconds(gatewayPid) - _gateway0) / wall, (ProcessCpuTime.Seconds(redisPid) - _redis0) / wall, wall);
    }
}
