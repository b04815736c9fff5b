using System.CommandLine;
using DistSac.Cli.Configuration;
using DistSac.Worker;

namespace DistSac.Cli.Commands;

/// <summary>`distsac worker`: the rollout worker role (section "Worker", DISTSAC_WORKER__* variables, flags).</summary>
public static class WorkerCommand
{
    private static readonly Dictionary<string, string?> NoDefaults = [];

    public static Command Create()
    {
        // One flag table for this command and the Native AOT distsac-worker (src/DistSac.Worker.Host).
        var flags = WorkerFlags.All.Select(f => new ConfigFlag(f.Name, f.Key, f.Description, f.ValueType)).ToList();
        var configOption = new Option<string>("--config") { Description = "JSON configuration file (section Worker)." };
        var command = new Command("worker", "Run a rollout worker: step environments with the latest actor and push transitions to a gateway.");
        command.Options.Add(configOption);
        foreach (var f in flags) command.Options.Add(f.Option);

        // Program.cs turns Ctrl-C / SIGTERM into this token with no forced-exit timeout, so the worker can deliver its
        // last batch (bounded by Worker:ShutdownFlushTimeoutMs) and exit 0. Configuration errors surface as
        // ValidationException / ConfigurationException, which Program.cs reports as "error: ..." with exit code 2.
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            var configuration = DistSacConfiguration.Build(parse.GetValue(configOption), NoDefaults, overrides);
            var options = DistSacConfiguration.Bind<WorkerOptions>(configuration, WorkerOptions.Section);
            options.Validate();
            return await WorkerProcess.RunAsync(options, cancellationToken);
        });
        return command;
    }
}
