using DistSac.Learning.Networks;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

/// <summary>
/// TorchSharp hands a Scalar's raw native handle to libtorch without keeping the managed Scalar alive, and the
/// Scalar's finalizer frees that handle. A temporary Scalar (an implicit double -> Scalar conversion, or the alpha = 1
/// that add(Tensor) creates) can be freed by a garbage collection on another thread while libtorch still reads it:
/// the learner's rare "Expected false to be true ... toFloat at c10/core/Scalar.h" crash. These tests force
/// collections and finalizers on another thread throughout many samples and updates.
/// </summary>
public sealed class ScalarLifetimeTests
{

    [Fact]
    public void ActorSampling_SurvivesGarbageCollectionsOnAnotherThread()
    {
        using var actor = new SquashedGaussianActor(3, 1, [16], [-2f], [2f], CPU);
        using var observations = randn(32, 3);
        RunWhileCollecting(4000, () =>
        {
            using var scope = NewDisposeScope();
            var (action, logProb) = actor.Sample(observations);
            Assert.True(float.IsFinite(logProb.sum().item<float>()));
        });
    }

    [Fact]
    public void SacUpdates_SurviveGarbageCollectionsOnAnotherThread()
    {
        using var learner = new SacLearner(3, 1, [-2f], [2f], new SacOptions { HiddenSizes = [16, 16], BatchSize = 32 }, CPU, seed: 1, concurrentStreams: true);
        using var o = randn(32, 3);
        using var a = rand(32, 1);
        using var r = randn(32, 1);
        using var o2 = randn(32, 3);
        using var d = zeros(32, 1);
        RunWhileCollecting(300, () => learner.Update(o, a, r, o2, d));
        Assert.Equal(300, learner.UpdateCount);
        Assert.True(double.IsFinite(learner.ReadStats().CriticLoss));
    }

    private static void RunWhileCollecting(int iterations, Action work)
    {
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            for (int i = 0; i < iterations; i++) work();
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }
}
