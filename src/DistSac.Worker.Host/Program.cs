using System.ComponentModel.DataAnnotations;
using DistSac.Observability;
using DistSac.Worker;
using DistSac.Worker.Host;

// distsac-worker: exit 0 when done or stopped by SIGTERM/Ctrl-C (after delivering the last batch), 2 for bad
// arguments or settings, 1 for a runtime failure, as `distsac worker`.
// Never disposed (StopSignals): a SIGTERM after the run ended must not turn a clean exit into 143.
var stopping = StopSignals.Register();

WorkerOptions options;
try
{
    var commandLine = WorkerCommandLine.Parse(args);
    if (commandLine.Help)
    {
        Console.Out.Write(WorkerCommandLine.Usage());
        return 0;
    }

    options = WorkerConfiguration.Load(commandLine.ConfigPath, commandLine.Overrides);
    options.Validate();
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or ValidationException or FormatException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

try
{
    return await WorkerProcess.RunAsync(options, stopping);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    return 1;
}
