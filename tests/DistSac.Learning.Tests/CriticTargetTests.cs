using DistSac.Learning.Tests.Reference;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class CriticTargetTests
{
    private const double Gamma = 0.9;
    private const float Alpha = 0.37f;

    // Rows 2 and 3 stand for time-limit truncations: the replay stores them with terminated = 0, so they must bootstrap.
    private static readonly float[] Terminated = [0, 1, 0, 0, 1, 0, 0, 1];

    [Fact]
    public void CriticTargetValues_IsRewardPlusDiscountedSoftTargetValueUnlessTerminated()
    {
        using var scope = NewDisposeScope();
        using var learner = Learners.New(Learners.Options() with { Gamma = Gamma }, seed: 3);
        using (var warmUp = Learners.Batch(30))
        {
            // A few updates first, so the target critic differs from the online one.
            for (int i = 0; i < 3; i++) warmUp.UpdateOnce(learner);
        }
        using var batch = Learners.Batch(31, Terminated.Length, Terminated);
        var random = new Random(32);
        // Any next actions and log-probs will do: here they are inputs, not drawn by the learner.
        var nextActions = Host.Uniform(random, batch.Size * Learners.ActionSize, 0, 2);
        var nextLogProb = Host.Uniform(random, batch.Size, -3, 2);
        using var alpha = tensor(new[] { Alpha });

        var target = Host.Doubles(learner.CriticTargetValues(batch.Rewards, batch.NextObservations, batch.Terminated, alpha,
            Host.Matrix(nextActions, batch.Size, Learners.ActionSize), Host.Matrix(nextLogProb, batch.Size, 1)));

        var nextObservations = Array.ConvertAll(batch.NextObservationValues, v => (double)v);
        var actions = Array.ConvertAll(nextActions, v => (double)v);
        var q = ReferenceSac.CriticForward(learner.CriticTarget, nextObservations, actions, batch.Size);
        var online = ReferenceSac.CriticForward(learner.Critic, nextObservations, actions, batch.Size);
        for (int s = 0; s < batch.Size; s++)
        {
            if (Terminated[s] == 1)
            {
                Assert.Equal(batch.RewardValues[s], target[s]);
                continue;
            }
            double expected = batch.RewardValues[s] + Gamma * (Math.Min(q[0][s], q[1][s]) - Alpha * nextLogProb[s]);
            double withOnlineCritic = batch.RewardValues[s] + Gamma * (Math.Min(online[0][s], online[1][s]) - Alpha * nextLogProb[s]);
            Assert.Equal(expected, target[s], 1e-5);
            Assert.True(Math.Abs(withOnlineCritic - expected) > 1e-4, $"row {s}: the online critic gives the same target, so this test cannot tell them apart");
        }
    }

    // The critic's gradient after an update shows the target it regressed on: for one transition,
    // dJ_Q/db_k = 2 (Q_k(s, a) - y) for the last-layer bias of critic k.
    [Theory]
    [InlineData(0f, false)]
    [InlineData(1f, false)]
    [InlineData(0f, true)]
    [InlineData(1f, true)]
    public void Update_RegressesOnTheTargetCriticAtTheCurrentPolicysNextActionBootstrappingUnlessTerminated(float terminated, bool concurrentStreams)
    {
        using var scope = NewDisposeScope();
        // alpha = 1e-8 and a nearly deterministic actor make y = r + gamma (1 - d) min(Q1', Q2')(s', tanh(mu(s')) scale + bias)
        // up to ~1e-6, whatever noise the learner draws.
        using var learner = Learners.New(Learners.Options() with { Gamma = Gamma, InitialAlpha = 1e-8 }, seed: 4, concurrentStreams);
        using (var warmUp = Learners.Batch(40))
        {
            // Warm-up updates move the critic away from its target, so a target built from the online critic is caught.
            for (int i = 0; i < 5; i++) warmUp.UpdateOnce(learner);
        }
        Learners.MakeActorNearlyDeterministic(learner.Actor);
        using var batch = Learners.Batch(41, 1, [terminated]);
        var nextAction = Learners.MeanActions(learner.Actor, batch.NextObservationValues, 1);
        var nextQ = ReferenceSac.CriticForward(learner.CriticTarget, Array.ConvertAll(batch.NextObservationValues, v => (double)v), nextAction, 1);
        double y = batch.RewardValues[0] + Gamma * (1 - terminated) * Math.Min(nextQ[0][0], nextQ[1][0]);
        var onlineNextQ = ReferenceSac.CriticForward(learner.Critic, Array.ConvertAll(batch.NextObservationValues, v => (double)v), nextAction, 1);
        var q = ReferenceSac.CriticForward(learner.Critic, Array.ConvertAll(batch.ObservationValues, v => (double)v), Array.ConvertAll(batch.ActionValues, v => (double)v), 1);
        if (terminated == 0)
            Assert.True(Math.Abs(Math.Min(onlineNextQ[0][0], onlineNextQ[1][0]) - Math.Min(nextQ[0][0], nextQ[1][0])) > 1e-3, "online and target critic agree, so this test cannot tell them apart");

        batch.UpdateOnce(learner);

        for (int k = 0; k < 2; k++)
        {
            double lastBiasGradient = Host.Doubles(learner.Critic.Bias(k, learner.Critic.LayerCount - 1).grad!)[0];
            Assert.Equal(y, q[k][0] - lastBiasGradient / 2, 1e-4);
        }
    }
}
