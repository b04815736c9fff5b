using DistSac.Envs;
using DistSac.Policy;

namespace DistSac.Worker.Tests;

public class RolloutLoopTests
{
    private static readonly EnvSpec Pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");

    private static (RolloutLoop Loop, TransitionBatch Batch) Create(PolicySlot policy, int envs, int vectorSteps, string workerId = "w")
    {
        var seeds = WorkerSeeds.For(7, workerId);
        var loop = new RolloutLoop(new VectorEnvironment("Pendulum-v1", envs, seeds.Environments), policy, seeds);
        return (loop, new TransitionBatch(loop.Layout.RecordBytes, envs * vectorSteps));
    }

    private static List<Decoded> Run(RolloutLoop loop, TransitionBatch batch, int vectorSteps)
    {
        for (int s = 0; s < vectorSteps; s++)
        {
            loop.Step(batch, s + 1);
        }

        return Decoded.All([batch.Records.ToArray()], loop.Layout);
    }

    [Fact]
    public void Records_ChainObservations_AndRestartOnlyAfterTheTimeLimit()
    {
        const int Envs = 3;
        const int Steps = 250; // past Pendulum's 200-step truncation
        var (loop, batch) = Create(new PolicySlot(0), Envs, Steps);

        var records = Run(loop, batch, Steps);

        Assert.Equal(Envs * Steps, records.Count);
        for (int s = 1; s < Steps; s++)
        {
            for (int e = 0; e < Envs; e++)
            {
                var previous = records[((s - 1) * Envs) + e];
                var current = records[(s * Envs) + e];
                if (s % Pendulum.MaxEpisodeSteps == 0)
                {
                    // A new episode: its first observation is a reset state, not the final one.
                    Assert.NotEqual(previous.NextObs, current.Obs);
                }
                else
                {
                    Assert.Equal(previous.NextObs, current.Obs);
                }
            }
        }
    }

    [Fact]
    public void Records_CarryPendulumRewardOfTheirObservationAndAction_AndNeverTerminate()
    {
        var (loop, batch) = Create(new PolicySlot(0), envs: 4, vectorSteps: 100);

        var records = Run(loop, batch, 100);

        foreach (var r in records)
        {
            // Gymnasium: cost = angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2 with u clipped to [-2, 2].
            double theta = Math.Atan2(r.Obs[1], r.Obs[0]);
            double u = Math.Clamp(r.Action[0], -2.0, 2.0);
            double expected = -((theta * theta) + (0.1 * r.Obs[2] * r.Obs[2]) + (0.001 * u * u));
            Assert.Equal(expected, r.Reward, 3);
            Assert.Equal(0f, r.Terminated); // Pendulum only truncates; truncation must not be stored as terminal
        }
    }

    [Fact]
    public void WithoutWeights_ActionsAreUniformInTheBounds_AndVersionIsMinusOne()
    {
        var (loop, batch) = Create(new PolicySlot(0), envs: 8, vectorSteps: 500);

        var records = Run(loop, batch, 500);

        Assert.All(records, r => Assert.Equal(RolloutLoop.RandomPolicyVersion, r.Version));
        Assert.All(records, r => Assert.InRange(r.Action[0], -2f, 2f));
        // 4000 uniform draws on [-2, 2]: mean 0 (sd of the mean 0.018), a quarter in each quarter of the range.
        Assert.InRange(records.Average(r => r.Action[0]), -0.1, 0.1);
        Assert.InRange(records.Count(r => r.Action[0] > 1f) / (double)records.Count, 0.22, 0.28);
    }

    [Fact]
    public void DuringWarmup_ActionsStayRandom_EvenWithWeights()
    {
        var policy = new PolicySlot(warmupTransitions: 1000, totalInserted: 999);
        policy.Publish(new ActorNetwork(RandomActor.Create(Pendulum, [16, 16], seed: 3, version: 5), 4));
        var (loop, batch) = Create(policy, envs: 4, vectorSteps: 2);

        loop.Step(batch, 1);
        policy.ObserveTotalInserted(1000);
        loop.Step(batch, 2);

        var records = Decoded.All([batch.Records.ToArray()], loop.Layout);
        Assert.All(records.Take(4), r => Assert.Equal(-1, r.Version));
        Assert.All(records.Skip(4), r => Assert.Equal(5, r.Version));
    }

    [Fact]
    public void AfterWarmup_ActionsAreStochasticActorSamples_WithinBounds()
    {
        var weights = RandomActor.Create(Pendulum, [16, 16], seed: 3, version: 9);
        var policy = new PolicySlot(0);
        policy.Publish(new ActorNetwork(weights, 4));
        var (loop, batch) = Create(policy, envs: 4, vectorSteps: 50);

        var records = Run(loop, batch, 50);

        // The deterministic action tanh(mu) * 2 from an independent forward pass; noise must move the samples off it.
        var reference = new ActorNetwork(weights, 1);
        int differing = 0;
        foreach (var r in records)
        {
            Assert.Equal(9, r.Version);
            Assert.InRange(r.Action[0], -2f, 2f);
            var mean = new float[1];
            reference.Act(r.Obs, 1, mean, deterministic: true);
            if (Math.Abs(mean[0] - r.Action[0]) > 1e-4f)
            {
                differing++;
            }
        }

        Assert.True(differing > records.Count * 9 / 10, $"Only {differing} of {records.Count} actions differ from the deterministic action.");
    }

    [Fact]
    public void Step_AllocatesNothing()
    {
        var policy = new PolicySlot(0);
        policy.Publish(new ActorNetwork(RandomActor.Create(Pendulum, [64, 64], seed: 3, version: 1), 8));
        var (loop, batch) = Create(policy, envs: 8, vectorSteps: 1);
        loop.Step(batch, 1); // first call JIT-compiles
        batch.Clear();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int s = 0; s < 1000; s++)
        {
            loop.Step(batch, s + 2);
            batch.Clear();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void DifferentWorkerIds_ExploreDifferently_AndTheSameIdReplaysExactly()
    {
        var (a, batchA) = Create(new PolicySlot(0), envs: 2, vectorSteps: 10, workerId: "worker-a");
        var (a2, batchA2) = Create(new PolicySlot(0), envs: 2, vectorSteps: 10, workerId: "worker-a");
        var (b, batchB) = Create(new PolicySlot(0), envs: 2, vectorSteps: 10, workerId: "worker-b");

        Run(a, batchA, 10);
        Run(a2, batchA2, 10);
        Run(b, batchB, 10);

        Assert.Equal(batchA.Records.ToArray(), batchA2.Records.ToArray());
        Assert.NotEqual(batchA.Records.ToArray(), batchB.Records.ToArray());
    }

    [Fact]
    public void MountainCar_SamplesWithOrnsteinUhlenbeckEps_ByDefault_AndAllocatesNothing()
    {
        const int Envs = 2;
        const int Steps = 30;
        EnvSpec car = EnvironmentRegistry.GetSpec("MountainCarContinuous-v0");
        var weights = RandomActor.Create(car, [16, 16], seed: 4, version: 2);
        var policy = new PolicySlot(0);
        policy.Publish(new ActorNetwork(weights, Envs));
        var seeds = WorkerSeeds.For(7, "car");
        var loop = new RolloutLoop(new VectorEnvironment(car.Id, Envs, seeds.Environments), policy, seeds);
        var batch = new TransitionBatch(loop.Layout.RecordBytes, Envs * Steps);

        var records = Run(loop, batch, Steps);

        // Each action is the actor's sample tanh(mu + sigma eps) with eps from an independent OU process on the
        // worker's noise seed (no episode ends in 30 steps from the valley).
        Assert.Equal(ExplorationNoiseKind.OrnsteinUhlenbeck, loop.Exploration.Noise);
        var expectedNoise = new OrnsteinUhlenbeckNoise(seeds.ExplorationNoise, Envs, 1, ExplorationSettings.DefaultCorrelationSteps);
        var reference = new ActorNetwork(weights, Envs);
        var eps = new float[Envs];
        var obs = new float[Envs * 2];
        var expected = new float[Envs];
        for (int s = 0; s < Steps; s++)
        {
            expectedNoise.Fill(eps);
            for (int e = 0; e < Envs; e++) records[(s * Envs) + e].Obs.CopyTo(obs, e * 2);
            reference.Act(obs, Envs, expected, eps);
            for (int e = 0; e < Envs; e++) Assert.Equal(expected[e], records[(s * Envs) + e].Action[0]);
        }

        batch.Clear();
        long before = GC.GetAllocatedBytesForCurrentThread();
        loop.Step(batch, Steps + 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Pendulum_KeepsWhiteNoise()
    {
        var (loop, _) = Create(new PolicySlot(0), envs: 1, vectorSteps: 1);

        Assert.Equal(ExplorationNoiseKind.White, loop.Exploration.Noise);
    }
}
