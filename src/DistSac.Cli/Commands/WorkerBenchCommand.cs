using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>`distsac bench worker`: one worker's rollout loop on one thread and its resident memory (<see cref="WorkerBenchmark"/>).</summary>
public static class WorkerBenchCommand
{
    public static Command Create()
    {
        var envs = new Option<int>("--envs") { Description = "Environments stepped together (E).", DefaultValueFactory = _ => 32 };
        var seconds = new Option<double>("--seconds") { Description = "Timed duration after warm-up.", DefaultValueFactory = _ => 10 };
        var warmUp = new Option<double>("--warm-up-seconds") { Description = "Untimed run first, so the JIT reaches optimised code.", DefaultValueFactory = _ => 2 };
        var env = new Option<string>("--env") { Description = "Environment id.", DefaultValueFactory = _ => "Pendulum-v1" };
        var batch = new Option<int>("--batch-transitions") { Description = "Transitions per push batch (M).", DefaultValueFactory = _ => 64 };
        var command = new Command("worker", "Env steps/s of one worker's rollout loop on one thread (256x256 actor, stochastic), and its resident memory.")
        {
            envs, seconds, warmUp, env, batch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new WorkerBenchSettings(parse.GetValue(env)!, parse.GetValue(envs), parse.GetValue(batch),
                TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeSpan.FromSeconds(parse.GetValue(warmUp)));
            var result = await WorkerBenchmark.RunAsync(settings);
            Console.WriteLine(result.ToJson());
            return 0;
        });
        return command;
    }
}
