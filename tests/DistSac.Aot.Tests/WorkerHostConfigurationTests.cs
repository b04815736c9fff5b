using DistSac.Worker;
using DistSac.Worker.Host;

namespace DistSac.Aot.Tests;

/// <summary>
/// distsac-worker's command line and its source-generated binding (fast: part of `make test`). The generator binds only
/// settable properties and skips the rest without a word, so every flag is checked to reach its property.
/// </summary>
public class WorkerHostConfigurationTests
{
    [Fact]
    public void EveryFlag_ReachesItsSetting()
    {
        var values = new Dictionary<string, string>
        {
            ["--gateway"] = "https://gw.example:50051", ["--tls-ca-file"] = "/ca.pem", ["--tls-cert-file"] = "/c.pem", ["--tls-key-file"] = "/k.pem",
            ["--worker-id"] = "w-7", ["--envs"] = "3", ["--batch-transitions"] = "17", ["--flush-interval-ms"] = "23", ["--max-steps"] = "99",
            ["--push-timeout-ms"] = "1234", ["--shutdown-flush-timeout-ms"] = "567", ["--simulated-step-cost-us"] = "89",
            ["--simulated-step-cost-mode"] = "sleep", ["--progress-interval-seconds"] = "2.5", ["--http-listen"] = "http://127.0.0.1:9099",
        };
        Assert.Equal(values.Keys.Order(StringComparer.Ordinal), WorkerFlags.All.Select(f => f.Name).Order(StringComparer.Ordinal));
        var args = values.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray();

        var commandLine = WorkerCommandLine.Parse(args);
        var options = WorkerConfiguration.Load(commandLine.ConfigPath, commandLine.Overrides);

        var expected = new WorkerOptions
        {
            Gateway = "https://gw.example:50051", TlsCaFile = "/ca.pem", TlsCertFile = "/c.pem", TlsKeyFile = "/k.pem", WorkerId = "w-7", Envs = 3,
            BatchTransitions = 17, FlushIntervalMs = 23, MaxSteps = 99, PushTimeoutMs = 1234, ShutdownFlushTimeoutMs = 567, SimulatedStepCostMicroseconds = 89,
            SimulatedStepCostMode = SimulatedCostMode.Sleep, ProgressIntervalSeconds = 2.5, HttpListen = "http://127.0.0.1:9099",
        };
        Assert.Equal(expected, options);
    }

    [Fact]
    public void FlagsOverrideTheConfigFile_AndEqualsSyntaxWorks()
    {
        string file = Path.Combine(Path.GetTempPath(), $"distsac-worker-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "Worker": { "Envs": 5, "BatchTransitions": 11, "WorkerId": "from-file" } }""");
        try
        {
            var commandLine = WorkerCommandLine.Parse(["worker", "--config", file, "--envs=6"]);
            var options = WorkerConfiguration.Load(commandLine.ConfigPath, commandLine.Overrides);

            Assert.Equal((6, 11, "from-file"), (options.Envs, options.BatchTransitions, options.WorkerId));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--bogus", "1", "Unknown argument '--bogus'")]
    [InlineData("--envs", null, "--envs needs a value")]
    public void BadArguments_AreNamed(string flag, string? value, string message)
    {
        string[] args = value is null ? [flag] : [flag, value];

        var error = Assert.Throws<ArgumentException>(() => WorkerCommandLine.Parse(args));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AValueOfTheWrongType_NamesTheKey()
    {
        var commandLine = WorkerCommandLine.Parse(["--envs", "many"]);

        var error = Assert.Throws<ArgumentException>(() => WorkerConfiguration.Load(null, commandLine.Overrides));

        Assert.Contains("Worker:Envs", error.Message, StringComparison.Ordinal);
    }
}
