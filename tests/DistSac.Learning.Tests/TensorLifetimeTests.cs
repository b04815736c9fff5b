using System.Runtime;
using DistSac.Learning.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class TensorLifetimeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_KeepsTheNumberOfLiveTensorsFlatOverThreeHundredUpdates(bool concurrentStreams)
    {
        using var learner = Learners.New(Learners.Options(64), concurrentStreams: concurrentStreams);
        using var batch = Learners.Batch(50, 64);
        for (int i = 0; i < 20; i++) batch.UpdateOnce(learner);
        learner.ReadStats();
        // Finalizers would quietly dispose tensors that were leaked rather than disposed, hiding the leak from the
        // process-wide count; so collect before measuring and keep the GC out of the measured loop.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long threadLiveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long totalBefore = Tensor.TotalCount;

        bool noGc = GC.TryStartNoGCRegion(32L << 20);
        try
        {
            for (int i = 0; i < 300; i++)
            {
                batch.UpdateOnce(learner);
                if (i % 50 == 0) learner.ReadStats();
            }
        }
        finally
        {
            if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }

        Assert.Equal(totalBefore, Tensor.TotalCount);
        // Per-thread counts only balance when one thread both makes and disposes every tensor: with concurrent streams
        // the critic thread makes the loss scalars that this thread disposes.
        if (!concurrentStreams) Assert.Equal(threadLiveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Dispose_ReleasesEveryTensorTheLearnerMade()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = Tensor.TotalCount;
        bool noGc = GC.TryStartNoGCRegion(32L << 20);
        try
        {
            var learner = Learners.New(Learners.Options());
            learner.ReadStats();
            using (var batch = Learners.Batch(51)) batch.UpdateOnce(learner);
            learner.ReadStats();
            learner.Dispose();
        }
        finally
        {
            if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }

        // TorchSharp 0.107's Parameter constructor moves the native handle out of an intermediate wrapper that it never
        // disposes, so Tensor.TotalCount keeps one (empty) wrapper per Parameter: 6 actor + 12 critic + 12 target + log alpha.
        // No native tensor stays alive; anything above that count is a real leak.
        const int parameterWrappers = 6 + 12 + 12 + 1;
        Assert.Equal(before + parameterWrappers, Tensor.TotalCount);
    }
}
