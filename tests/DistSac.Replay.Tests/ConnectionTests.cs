using DistSac.Testing;

namespace DistSac.Replay.Tests;

public sealed class ConnectionTests
{
    [Fact]
    public async Task An_unreachable_shard_fails_with_a_message_naming_its_endpoint()
    {
        await using var alive = await RedisServer.StartAsync();
        string dead = $"127.0.0.1:{FreePort.Next()}";
        var options = new ReplayOptions { RunId = "r", Shards = [alive.Endpoint, dead], ConnectTimeoutMs = 500 };

        var ex = await Assert.ThrowsAsync<ReplayUnavailableException>(() => ShardedReplay.ConnectAsync(options, null, CancellationToken.None));

        Assert.Contains(dead, ex.Message, StringComparison.Ordinal);
        Assert.Contains("shard 1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(dead, ex.Endpoint);
        Assert.Equal(1, ex.Shard);
    }

    [Fact]
    public async Task A_shard_that_comes_up_within_the_start_grace_is_connected_instead_of_failing_the_start()
    {
        int port = FreePort.Next();
        var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [$"127.0.0.1:{port}"], CapacityPerShard = 10, ConnectTimeoutMs = 500 };

        var connecting = ShardedReplay.ConnectAsync(options, null, CancellationToken.None);
        await Task.Delay(1_000);
        Assert.False(connecting.IsCompleted, "the connect gave up (or connected to nothing) before the shard was started");
        await using var server = await RedisServer.StartAsync(port: port);
        await using var replay = await connecting;

        await replay.InitializeRunAsync(TestRuns.Metadata(options.RunId, 10, 1), CancellationToken.None);
        Assert.Equal(1, replay.ShardCount);
    }

    [Fact]
    public async Task A_replay_whose_replies_the_thread_pool_reads_stores_samples_and_announces_inserts()
    {
        await using var server = await RedisServer.StartAsync();
        var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [server.Endpoint], CapacityPerShard = 10 };
        await using var replay = await ShardedReplay.ConnectAsync(options, null, ShardReaderThreads.ThreadPool, CancellationToken.None);
        await replay.InitializeRunAsync(TestRuns.Metadata(options.RunId, 10, 1), CancellationToken.None);
        var announced = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await replay.SubscribeInsertsAsync(shard => announced.TrySetResult(shard), CancellationToken.None);

        var stored = await replay.InsertAsync("w", 0, TestRuns.Records(3, 7), 3, CancellationToken.None);
        var sample = new byte[4 * TestRuns.RecordBytes];
        await replay.SampleAsync(4, new Random(1), sample, CancellationToken.None);

        Assert.Equal(ShardReaderThreads.ThreadPool, replay.ReaderThreads);
        Assert.Equal(3, stored.Stored);
        Assert.Equal(0, await announced.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        for (int i = 0; i < 4; i++) Assert.InRange(TestRuns.Id(TestRuns.RecordAt(sample, i)), 7, 9);
    }

    [Fact]
    public async Task A_replay_connected_without_a_choice_keeps_the_dedicated_reader_threads()
    {
        await using var server = await RedisServer.StartAsync();
        var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [server.Endpoint], CapacityPerShard = 10 };
        await using var replay = await ShardedReplay.ConnectAsync(options, null, CancellationToken.None);
        Assert.Equal(ShardReaderThreads.Dedicated, replay.ReaderThreads);
    }

    [Fact]
    public async Task A_password_protected_shard_is_reachable_with_the_password()
    {
        await using var server = await RedisServer.StartAsync(password: "pw");
        var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [server.Endpoint], CapacityPerShard = 10, Password = "pw" };
        await using var replay = await ShardedReplay.ConnectAsync(options, null, CancellationToken.None);
        await replay.InitializeRunAsync(TestRuns.Metadata(options.RunId, 10, 1), CancellationToken.None);
        Assert.Equal(1, (await replay.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, CancellationToken.None)).Stored);
    }

    [Fact]
    public async Task A_password_protected_shard_refuses_a_client_without_the_password_naming_the_endpoint()
    {
        await using var server = await RedisServer.StartAsync(password: "pw");
        var options = new ReplayOptions { RunId = "r", Shards = [server.Endpoint], ConnectTimeoutMs = 1000 };
        var ex = await Assert.ThrowsAsync<ReplayUnavailableException>(() => ShardedReplay.ConnectAsync(options, null, CancellationToken.None));
        Assert.Contains(server.Endpoint, ex.Message, StringComparison.Ordinal);
    }
    [Fact]
    public async Task A_password_file_is_read_for_the_connection()
    {
        await using var server = await RedisServer.StartAsync(password: "pw-from-a-file");
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "pw-from-a-file\n");
            var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [server.Endpoint], CapacityPerShard = 10, PasswordFile = file };
            await using var replay = await ShardedReplay.ConnectAsync(options, null, CancellationToken.None);
            await replay.InitializeRunAsync(TestRuns.Metadata(options.RunId, 10, 1), CancellationToken.None);
            Assert.Equal(1, (await replay.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, CancellationToken.None)).Stored);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_password_and_a_password_file_together_are_refused_naming_both()
    {
        var options = new ReplayOptions { Password = "pw", PasswordFile = "/nonexistent" };
        var ex = Assert.Throws<ArgumentException>(() => options.ResolvePassword());
        Assert.Contains("Replay:Password and Replay:PasswordFile", ex.Message, StringComparison.Ordinal);
    }
}
