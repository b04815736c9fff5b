using System.Text.Json;

namespace DistSac.Integration.Tests;

/// <summary>
/// The per-environment presets as the run records them (config.json in the run directory, written before the learner
/// connects to Redis): the distributed learner trains Pendulum-v1 with tau 0.02 and learning rates 1e-3 unless a flag,
/// variable or file says otherwise; other environments and the single-process `train` keep the paper's tau 0.005.
/// </summary>
public sealed class EnvironmentPresetTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-preset-test-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Theory]
    [InlineData("Pendulum-v1", "", "", 0.02)]
    [InlineData("Pendulum-v1", "--tau=0.005", "", 0.005)]
    [InlineData("Pendulum-v1", "", "0.01", 0.01)]
    [InlineData("MountainCarContinuous-v0", "", "", 0.005)]
    public async Task Learner_RecordsTheEffectiveTau_PresetUnlessOverridden(string env, string flag, string variable, double expectedTau)
    {
        // Nothing listens on port 1: the learner writes its run's settings, fails to connect within 200 ms and exits 1.
        List<string> args = ["learner", "--env", env, "--shards", "127.0.0.1:1", "--runs-root", _runs, "--run-id", "r", "--device", "cpu", "--threads", "1"];
        if (flag.Length > 0) args.Add(flag);
        var environment = new Dictionary<string, string> { ["DISTSAC_REPLAY__CONNECTTIMEOUTMS"] = "200" };
        if (variable.Length > 0) environment["DISTSAC_SAC__TAU"] = variable;
        await using var learner = DistSacProcess.Start(args, environment);

        var exit = await learner.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 1, $"exit {exit}:\n{learner.Output}");
        var sac = Sac(Path.Combine(_runs, "r", "config.json"));
        Assert.Equal(expectedTau, sac.GetProperty("Tau").GetDouble());
        double expectedLearningRate = env == "Pendulum-v1" ? 1e-3 : 3e-4;
        foreach (var key in new[] { "ActorLearningRate", "CriticLearningRate", "AlphaLearningRate" })
            Assert.Equal(expectedLearningRate, sac.GetProperty(key).GetDouble());
    }

    [Fact]
    public async Task Train_KeepsTheZooSettings_ForPendulum()
    {
        await using var train = DistSacProcess.Start(["train", "--env", "Pendulum-v1", "--steps", "1", "--eval-interval", "1000",
            "--eval-episodes", "1", "--threads", "1", "--runs-root", _runs, "--run-id", "train"]);

        var exit = await train.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, $"exit {exit}:\n{train.Output}");
        var sac = Sac(Path.Combine(_runs, "train", "config.json"));
        Assert.Equal(0.005, sac.GetProperty("Tau").GetDouble());
        Assert.Equal(1e-3, sac.GetProperty("ActorLearningRate").GetDouble());
    }

    [Fact]
    public async Task Local_NamesThePendulumTau_AmongItsPerEnvironmentDefaults()
    {
        // The line comes before any child starts; a redis-server that does not exist then ends the run.
        await using var local = DistSacProcess.Start(["local", "--env", "Pendulum-v1", "--redis-server", Path.Combine(_runs, "no-such-redis-server"),
            "--runs-root", _runs, "--run-id", "local"]);

        await local.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.Contains("Sac:Tau=0.02", local.Output, StringComparison.Ordinal);
    }

    private static JsonElement Sac(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        return doc.RootElement.GetProperty("Sac").Clone();
    }
}
