using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class ActorCriticIsolationTests
{
    [Fact]
    public void CriticForwardWithDetachedWeights_PassesGradientToTheActionButNotToTheWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(12);
        using var critic = new TwinCritic(3, 2, [16, 16], CPU);
        using var batch = Learners.Batch(12, 10);
        using var detachedAction = batch.Actions.clone().requires_grad_();
        using var attachedAction = batch.Actions.clone().requires_grad_();

        critic.Forward(batch.Observations, detachedAction, detachWeights: true).amin([0]).sum().backward();
        var weightGradientsAfterDetached = Host.Doubles(critic.Parameters.Gradients);
        critic.Forward(batch.Observations, attachedAction).amin([0]).sum().backward();

        Assert.Equal(0, Host.MaxAbs(weightGradientsAfterDetached));
        Assert.True(Host.MaxAbs(Host.Doubles(critic.Parameters.Gradients)) > 0, "the attached forward left no weight gradient, so the flat gradient tensor is not wired");
        var detachedGradient = Host.Doubles(detachedAction.grad!);
        Assert.True(Host.MaxAbs(detachedGradient) > 0);
        Assert.True(Host.MaxAbsDifference(Host.Doubles(attachedAction.grad!), detachedGradient) < 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_StepsTheCriticOnTheCriticLossGradientAlone(bool concurrentStreams)
    {
        using var scope = NewDisposeScope();
        using var learner = Learners.New(Learners.Options() with { InitialAlpha = 1e-8, Gamma = 0.9 }, seed: 13, concurrentStreams);
        using var batch = Learners.Batch(13);
        using (var warmUp = Learners.Batch(14))
        {
            for (int i = 0; i < 3; i++) warmUp.UpdateOnce(learner);
        }
        // With a nearly deterministic actor and alpha = 1e-8 the target is y = r + gamma (1 - d) min(Q1', Q2')(s', tanh(mu(s')) scale + bias).
        Learners.MakeActorNearlyDeterministic(learner.Actor);
        var nextActions = Array.ConvertAll(Learners.MeanActions(learner.Actor, batch.NextObservationValues, batch.Size), v => (float)v);
        using var zeroLogProb = zeros(batch.Size, 1);
        using (var alpha = tensor(new[] { 1e-8f }))
        {
            // The critic loss alone, J_Q = MSE(Q1, y) + MSE(Q2, y), computed before the update from the same weights.
            var y = learner.CriticTargetValues(batch.Rewards, batch.NextObservations, batch.Terminated, alpha,
                Host.Matrix(nextActions, batch.Size, Learners.ActionSize), zeroLogProb);
            var q = learner.Critic.Forward(batch.Observations, batch.Actions);
            var criticLoss = (q[0] - y).square().mean() + (q[1] - y).square().mean();
            learner.Critic.Parameters.ZeroGradients();
            criticLoss.backward();
        }
        var criticLossOnly = Host.Doubles(learner.Critic.Parameters.Gradients);

        batch.UpdateOnce(learner);

        var afterUpdate = Host.Doubles(learner.Critic.Parameters.Gradients);
        Assert.True(Host.MaxAbs(criticLossOnly) > 1e-3);
        Assert.True(Host.MaxAbsDifference(criticLossOnly, afterUpdate) <= 1e-5 * Host.MaxAbs(criticLossOnly),
            $"critic gradient after the update differs from the critic-loss gradient by {Host.MaxAbsDifference(criticLossOnly, afterUpdate)}");
        Assert.True(Host.MaxAbs(Host.Doubles(learner.Actor.Parameters.Gradients)) > 0);
    }

    // J_pi = E[alpha log pi(a|s) - min(Q1, Q2)(s, a)]: with a nearly deterministic actor and alpha = 1e-8 its gradient is
    // that of -mean min(Q1, Q2)(s, tanh(mu(s)) scale + bias), through the critics as they were before the update.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_StepsTheActorOnTheGradientOfMinQAtThePreUpdateCritic(bool concurrentStreams)
    {
        using var scope = NewDisposeScope();
        using var learner = Learners.New(Learners.Options() with { InitialAlpha = 1e-8 }, seed: 15, concurrentStreams);
        using var batch = Learners.Batch(15);
        using (var warmUp = Learners.Batch(16))
        {
            for (int i = 0; i < 3; i++) warmUp.UpdateOnce(learner);
        }
        Learners.MakeActorNearlyDeterministic(learner.Actor);
        var scale = tensor(new[] { (float)ReferenceSac.Scale(Learners.ActionLow[0], Learners.ActionHigh[0]), (float)ReferenceSac.Scale(Learners.ActionLow[1], Learners.ActionHigh[1]) });
        var bias = tensor(new[] { (float)ReferenceSac.Bias(Learners.ActionLow[0], Learners.ActionHigh[0]), (float)ReferenceSac.Bias(Learners.ActionLow[1], Learners.ActionHigh[1]) });
        var (mean, _) = learner.Actor.Forward(batch.Observations);
        var q = learner.Critic.MinQ(batch.Observations, mean.tanh() * scale + bias, detachWeights: true);
        learner.Actor.Parameters.ZeroGradients();
        q.mean().neg().backward();
        var expected = Host.Doubles(learner.Actor.Parameters.Gradients);

        batch.UpdateOnce(learner);

        var actual = Host.Doubles(learner.Actor.Parameters.Gradients);
        Assert.True(Host.MaxAbs(expected) > 1e-3);
        Assert.True(Host.MaxAbsDifference(expected, actual) <= 1e-4 * Host.MaxAbs(expected),
            $"actor gradient differs from -grad mean min Q by {Host.MaxAbsDifference(expected, actual)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_WithANegligibleCriticLearningRate_ChangesTheActorButNotTheCritic(bool concurrentStreams)
    {
        using var learner = Learners.New(Learners.Options() with { CriticLearningRate = 1e-8 }, concurrentStreams: concurrentStreams);
        using var batch = Learners.Batch(14);
        var criticBefore = Host.Doubles(learner.Critic.Parameters.Values);
        var actorBefore = Host.Doubles(learner.Actor.Parameters.Values);

        batch.UpdateOnce(learner);

        // Adam's first step moves each value by at most lr (here 1e-8), plus float rounding of values below 4.
        Assert.True(Host.MaxAbsDifference(criticBefore, Host.Doubles(learner.Critic.Parameters.Values)) < 1e-6);
        Assert.True(Host.MaxAbsDifference(actorBefore, Host.Doubles(learner.Actor.Parameters.Values)) > 1e-4);
    }
}
