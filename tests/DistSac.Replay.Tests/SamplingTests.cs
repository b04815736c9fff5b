namespace DistSac.Replay.Tests;

public sealed class SamplingTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [InlineData(1, 10.828)]
    [InlineData(10, 29.588)]
    [InlineData(100, 149.449)]
    public void The_chi_square_helper_reproduces_published_critical_values(int dof, double tableValue)
    {
        Assert.Equal(tableValue, ChiSquare.Critical(dof, 0.001), 2);
    }

    [Fact]
    public async Task Samples_are_uniform_over_all_transitions_across_shards_with_unequal_fill()
    {
        await using var replay = await UnequalFillRun.OpenAsync(redis.Servers);

        const int Batch = 256, Batches = 400;
        var counts = new long[100];
        var random = new Random(20240601);
        var buffer = new byte[Batch * TestRuns.RecordBytes];
        for (int b = 0; b < Batches; b++)
        {
            var fills = await replay.SampleAsync(Batch, random, buffer, None);
            Assert.Equal(new long[] { 30, 70 }, fills);
            for (int i = 0; i < Batch; i++)
            {
                var record = TestRuns.RecordAt(buffer, i);
                int id = TestRuns.Id(record);
                Assert.True(record.SequenceEqual(TestRuns.Records(1, id)));
                counts[UnequalFillRun.Cell(id)]++;
            }
        }

        UnequalFillRun.AssertUniform(counts);
    }

    [Fact]
    public void A_biased_sampler_would_fail_the_same_uniformity_check()
    {
        // Guards the test's power: drawing shards 50/50 instead of 30/70 is detected by the same statistic.
        var random = new Random(1);
        var counts = new long[100];
        const int N = 102_400;
        for (int i = 0; i < N; i++)
            counts[random.Next(2) == 0 ? random.Next(30) : 30 + random.Next(70)]++;
        var perCell = Enumerable.Repeat(N / 100.0, 100).ToArray();
        Assert.True(ChiSquare.Statistic(counts, perCell) > ChiSquare.Critical(99, 0.001));
    }

    [Fact]
    public async Task Transitions_inserted_after_a_sample_are_drawn_from_the_next_call_on()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 1000);
        await replay.InsertAsync("w", 0, TestRuns.Records(10, 0), 10, None);
        var buffer = new byte[256 * TestRuns.RecordBytes];
        var random = new Random(5);
        Assert.Equal(new long[] { 10 }, await replay.SampleAsync(256, random, buffer, None));

        await replay.InsertAsync("w", 1, TestRuns.Records(990, 10), 990, None);
        await replay.SampleAsync(256, random, buffer, None); // this round trip also brings the new fill back
        var fills = await replay.SampleAsync(256, random, buffer, None);

        Assert.Equal(new long[] { 1000 }, fills);
        int newer = 0;
        for (int i = 0; i < 256; i++) if (TestRuns.Id(TestRuns.RecordAt(buffer, i)) >= 10) newer++;
        Assert.True(newer > 200, $"only {newer} of 256 draws came from the 990 new transitions");
    }

    [Fact]
    public async Task Sampling_an_empty_run_says_it_is_empty()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.Servers, run, capacity: 10);
        await Assert.ThrowsAsync<ReplayEmptyException>(() => replay.SampleAsync(4, new Random(1), new byte[160], None));
    }

    [Fact]
    public async Task A_destination_too_small_for_the_batch_is_rejected()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10);
        await replay.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, None);
        await Assert.ThrowsAsync<ArgumentException>(() => replay.SampleAsync(4, new Random(1), new byte[159], None));
    }

    [Fact]
    public async Task A_shard_that_lost_its_data_is_noticed_and_sampling_continues_from_the_others()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.Servers, run, capacity: 100);
        await replay.InsertAsync("w", 0, TestRuns.Records(50, 0), 50, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(50, 100), 50, None);
        var buffer = new byte[256 * TestRuns.RecordBytes];
        await replay.SampleAsync(256, new Random(1), buffer, None);

        // Shard 1 forgets this run (as after a restart without persistence).
        await using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Servers[1].Endpoint))
        {
            var db = admin.GetDatabase();
            await db.KeyDeleteAsync([RunKeys.ShardData(run, 1), RunKeys.ShardState(run, 1), RunKeys.ShardSequences(run, 1)]);
        }

        var fills = await replay.SampleAsync(256, new Random(2), buffer, None);
        Assert.Equal(new long[] { 50, 0 }, fills);
        for (int i = 0; i < 256; i++) Assert.InRange(TestRuns.Id(TestRuns.RecordAt(buffer, i)), 0, 49);
    }
}
