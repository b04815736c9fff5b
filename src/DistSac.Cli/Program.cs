using System.CommandLine;
using DistSac.Cli.Commands;
using DistSac.Cli.Configuration;
using DistSac.Envs;

var root = new RootCommand("DistSac: distributed Soft Actor-Critic.")
{
    TrainCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    LearnerCommand.Create(),
    ReplayCommand.Create(),
    WorkerCommand.Create(),
    LocalCommand.Create(),
};

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ConfigurationException or UnknownEnvironmentException or ArgumentException or FileNotFoundException
                              or InvalidDataException or System.ComponentModel.DataAnnotations.ValidationException or InvalidOperationException
                              or DistSac.Replay.ReplayUnavailableException or DistSac.Replay.ReplaySchemaMismatchException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
