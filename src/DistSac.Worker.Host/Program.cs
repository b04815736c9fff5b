using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using DistSac.Worker;
using DistSac.Worker.Host;

// distsac-worker: exit 0 when done or stopped by SIGTERM/Ctrl-C (after delivering the last batch), 2 for bad
// arguments or settings, 1 for a runtime failure, as `distsac worker`.
using var stopping = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

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
    return await WorkerProcess.RunAsync(options, stopping.Token);
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
