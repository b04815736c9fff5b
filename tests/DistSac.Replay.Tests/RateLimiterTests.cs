namespace DistSac.Replay.Tests;

public sealed class RateLimiterTests
{
    [Theory]
    // ratio, warm-up, tolerance, updates, inserted, learner may update, workers may insert (batch 1)
    [InlineData(1.0, 100, 1.0, 0, 50, false, true)]      // warm-up: no updates, inserts always welcome
    [InlineData(1.0, 100, 1.0, 0, 100, true, true)]      // warm-up just reached: first update allowed
    [InlineData(1.0, 100, 1.0, 1, 100, false, true)]     // one update per transition after warm-up: wait
    [InlineData(1.0, 100, 1.0, 1, 101, true, true)]
    [InlineData(1.0, 100, 1.0, 0, 102, true, false)]     // learner owes 2 > tolerance 1: hold inserts
    [InlineData(1.0, 100, 1.0, 1, 102, true, true)]      // owes 1 = tolerance: admitted
    [InlineData(0.5, 0, 10.0, 0, 0, false, true)]        // empty buffer: nothing to sample
    [InlineData(0.5, 0, 10.0, 10, 2, true, true)]        // 1 owed, 10 done: ahead by 9, within tolerance 10
    [InlineData(0.5, 0, 10.0, 11, 2, false, true)]       // ahead by 10: the next update would exceed it
    [InlineData(0.5, 0, 10.0, 0, 42, true, false)]       // owes 21 > 10
    [InlineData(0.5, 0, 10.0, 11, 42, true, true)]       // owes 10
    [InlineData(0.0, 100, 1.0, 1_000_000, 100, true, true)] // ratio 0: no ratio, warm-up still applies
    [InlineData(0.0, 100, 1.0, 0, 99, false, true)]
    [InlineData(256.0, 1000, 1.0, 2560, 1010, true, true)]  // GPU-style many updates per transition: owes 0, may do 1 more (tolerance)
    [InlineData(256.0, 1000, 1.0, 2558, 1010, true, false)] // owes 2 > 1: hold inserts
    public void Decisions_follow_the_updates_per_transition_ratio(double ratio, long warmup, double tolerance,
        long updates, long inserted, bool learner, bool workers)
    {
        var limiter = new SamplesPerInsertRateLimiter(ratio, warmup, tolerance);
        Assert.Equal(learner, limiter.LearnerMayUpdate(updates, inserted));
        Assert.Equal(workers, limiter.WorkersMayInsert(updates, inserted, 1));
    }

    [Fact]
    public void A_tolerance_below_one_update_is_raised_to_one_so_nobody_waits_forever()
    {
        var limiter = new SamplesPerInsertRateLimiter(0.5, 0, 0);
        Assert.Equal(1.0, limiter.Tolerance);
        // With tolerance 0 this state (owes 0.5 updates) would block both sides.
        Assert.True(limiter.LearnerMayUpdate(0, 1) || limiter.WorkersMayInsert(0, 1, 1));
    }

    [Theory]
    [InlineData(1.0, 0, 1.0, 1)]
    [InlineData(0.25, 10, 1.0, 7)]
    [InlineData(4.0, 5, 2.5, 3)]
    [InlineData(256.0, 100, 1.0, 256)]
    public void Learner_and_workers_are_never_both_blocked(double ratio, long warmup, double tolerance, int batch)
    {
        var limiter = new SamplesPerInsertRateLimiter(ratio, warmup, tolerance);
        for (long n = 0; n < 400; n++)
            for (long u = 0; u < 2000; u += 3)
                Assert.True(limiter.LearnerMayUpdate(u, n) || limiter.WorkersMayInsert(u, n, batch), $"deadlock at u={u}, n={n}");
    }

    [Theory]
    [InlineData(1.0, 100, 1.0, 32)]
    [InlineData(0.1, 0, 5.0, 64)]
    [InlineData(8.0, 50, 1.0, 16)]
    public void Alternating_learner_and_workers_settle_at_the_configured_ratio(double ratio, long warmup, double tolerance, int batch)
    {
        var limiter = new SamplesPerInsertRateLimiter(ratio, warmup, tolerance);
        long u = 0, n = 0;
        for (int step = 0; step < 200_000; step++)
        {
            if (limiter.WorkersMayInsert(u, n, batch)) n += batch;
            if (limiter.LearnerMayUpdate(u, n)) u++;
            // Debt stays within [-tolerance, tolerance + one batch's updates].
            double debt = (n - warmup) * ratio - u;
            if (n >= warmup) Assert.InRange(debt, -limiter.Tolerance, limiter.Tolerance + batch * ratio + 1);
        }
        Assert.InRange(u / (double)(n - warmup), ratio * 0.95, ratio * 1.05);
    }

    [Fact]
    public void Reasons_say_who_waits()
    {
        var limiter = new SamplesPerInsertRateLimiter(1.0, 100, 1.0);
        Assert.StartsWith("warm-up: 50/100", limiter.Reason(0, 50), StringComparison.Ordinal);
        Assert.StartsWith("learner ahead", limiter.Reason(5, 101), StringComparison.Ordinal);
        Assert.StartsWith("workers ahead", limiter.Reason(0, 150), StringComparison.Ordinal);
        Assert.StartsWith("balanced", limiter.Reason(10, 110), StringComparison.Ordinal);
        Assert.StartsWith("rate limiter off", new SamplesPerInsertRateLimiter(0, 0, 1).Reason(9, 9), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1.0, 0, 1.0)]
    [InlineData(double.NaN, 0, 1.0)]
    [InlineData(double.PositiveInfinity, 0, 1.0)]
    [InlineData(1.0, -1, 1.0)]
    [InlineData(1.0, 0, -0.5)]
    public void Nonsense_settings_are_rejected(double ratio, long warmup, double tolerance)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplesPerInsertRateLimiter(ratio, warmup, tolerance));
    }
}
