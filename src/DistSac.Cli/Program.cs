using System.CommandLine;
using DistSac.Cli.Commands;
using DistSac.Cli.Configuration;
using DistSac.Envs;
using DistSac.Observability;
using DistSac.Settings;

var root = new RootCommand("DistSac: distributed Soft Actor-Critic.")
{
    TrainCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    LearnerCommand.Create(),
    ReplayCommand.Create(),
    WorkerCommand.Create(),
    LocalCommand.Create(),
    ConfigCommand.Create(),
    PlotCommand.Create(),
    StatusCommand.Create(),
};

// Ctrl-C and SIGTERM cancel the command's token and let it stop cleanly (workers flush, `local` stops its children);
// the process then exits with the command's own code instead of the runtime's default 130/143 kill, also when the
// signal comes after the command returned (StopSignals).
var stopping = StopSignals.Register();

try
{
    var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
    return await root.Parse(args).InvokeAsync(configuration, stopping);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    return 130;
}
catch (Exception e) when (NativeTorchFailure(e) is { } cause)
{
    Console.Error.WriteLine(
        "error: libtorch could not be loaded, so this command cannot run here. The slim image (distsac) has no libtorch on " +
        "purpose: run learner, train and bench learner from the distsac-learner image. On a Debian 12 host, `make deps` " +
        $"installs the libstdc++ that TorchSharp needs (GLIBCXX_3.4.32). Cause: {cause.GetType().Name}: {cause.Message.Split('\n')[0]}");
    return 3;
}
catch (Exception e) when (e is ConfigurationException or UnknownEnvironmentException or ArgumentException or FileNotFoundException
                              or InvalidDataException or System.ComponentModel.DataAnnotations.ValidationException or InvalidOperationException
                              or DistSac.Replay.ReplaySchemaMismatchException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (DistSac.Replay.ReplayUnavailableException e)
{
    // An unreachable shard is a runtime failure (exit 1), as the gateway reports it: the settings may be right.
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
catch (Exception e)
{
    // Anything else is a runtime failure: one clear line and exit 1, never the runtime's abort (134) with a core dump.
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    return 1;
}

// TorchSharp reports a missing or unloadable libtorch from its type initializer (NotSupportedException naming
// TorchSharp, or DllNotFoundException when a dependency such as libstdc++ is too old).
static Exception? NativeTorchFailure(Exception e)
{
    for (Exception? x = e; x is not null; x = x.InnerException)
    {
        if (x is DllNotFoundException || x is NotSupportedException && x.Message.Contains("TorchSharp", StringComparison.Ordinal))
            return x;
    }
    return null;
}
