using System.ComponentModel.DataAnnotations;

namespace DistSac.Worker.Tests;

public class WorkerPartsTests
{
    [Fact]
    public void RetryBackoff_DoublesFrom100MsTo5s_WithJitterInTheUpperHalf()
    {
        var backoff = new RetryBackoff();
        double[] ceilings = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];

        foreach (double ceiling in ceilings)
        {
            Assert.InRange(backoff.Next().TotalMilliseconds, ceiling / 2, ceiling);
        }

        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Fact]
    public void PolicySlot_TotalInserted_OnlyGrows()
    {
        var slot = new PolicySlot(10, totalInserted: 5);

        slot.ObserveTotalInserted(20);
        slot.ObserveTotalInserted(12); // a late acknowledgement from an older view

        Assert.Equal(20, slot.TotalInserted);
    }

    [Fact]
    public void WorkerSeeds_DifferAcrossWorkers_FarBeyondTheirEnvironmentCount()
    {
        var a = WorkerSeeds.For(42, "worker-0");
        var b = WorkerSeeds.For(42, "worker-1");

        Assert.Equal(a, WorkerSeeds.For(42, "worker-0"));
        // Env i is seeded with seed + i: seeds of two workers must not be within a few thousand of each other.
        Assert.True(Math.Abs((double)a.Environments - b.Environments) > 1e6);
        Assert.NotEqual(a.ExplorationNoise, a.RandomActions);
    }

    [Theory]
    [InlineData("Envs", "Worker:Envs")]
    [InlineData("BatchTransitions", "Worker:BatchTransitions")]
    [InlineData("Gateway", "Worker:Gateway")]
    public void Options_Validation_NamesTheBadKey(string property, string key)
    {
        var options = property switch
        {
            "Envs" => new WorkerOptions { Envs = 0 },
            "BatchTransitions" => new WorkerOptions { BatchTransitions = 100_000 },
            _ => new WorkerOptions { Gateway = "127.0.0.1:50051" },
        };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.StartsWith(key + " = ", error.Message, StringComparison.Ordinal);
        Assert.Contains(" is invalid: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreValid_AndNameThisProcessUniquely()
    {
        var options = new WorkerOptions();

        options.Validate();
        // host-pid plus a random suffix: a restarted container with the same hostname and pid 1 must not reuse an id
        // whose sequence numbers the gateway has already seen (its pushes would be dropped as duplicates).
        Assert.StartsWith($"{Environment.MachineName}-{Environment.ProcessId}-", options.WorkerId, StringComparison.Ordinal);
        Assert.NotEqual(options.WorkerId, new WorkerOptions().WorkerId);
        Assert.Equal((8, 64, 100), (options.Envs, options.BatchTransitions, options.FlushIntervalMs));
    }

    [Fact]
    public void UniformActionSampler_StaysInsideAsymmetricBounds()
    {
        var sampler = new UniformActionSampler([-1f, 0f], [3f, 0.5f], seed: 5);
        var actions = new float[20_000];

        sampler.Fill(actions);

        for (int i = 0; i < actions.Length; i += 2)
        {
            Assert.InRange(actions[i], -1f, 3f);
            Assert.InRange(actions[i + 1], 0f, 0.5f);
        }

        Assert.InRange(actions.Where((_, i) => i % 2 == 0).Average(), 0.95, 1.05);
    }
}
