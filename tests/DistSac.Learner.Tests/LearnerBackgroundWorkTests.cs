using DistSac.Testing;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistSac.Learner.Tests;

/// <summary>
/// The update loop's background work (the weights send, the counter read) never outlives the run, whatever ends it, and
/// never hides or loses a failure: a loop that throws reports its own exception after the send in flight was stopped,
/// and a send that fails ends the run at the loop's next iteration. Real redis-server; the send is held in Redis with
/// CLIENT PAUSE WRITE (reads go on, so the loop does) or refused with an ACL.
/// </summary>
public sealed class LearnerBackgroundWorkTests
{
    private static readonly TimeSpan RunEnd = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_loop_that_throws_while_a_weights_send_is_in_flight_reports_its_own_exception_after_the_send_failure_was_logged()
    {
        await using var shard = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(shard.Endpoint);
        var failure = new InvalidOperationException("the metrics sink failed");
        var log = new RecordedLog();
        using var unobserved = new UnobservedLearnerExceptions();
        await using var learner = await RunningLearner.StartAsync("send-in-flight", [shard], o => o with { WarmupTransitions = 128, PublishEvery = 10, LogInterval = 5 }, log,
            m =>
            {
                // Update 5: Redis refuses the run state's writes (NOPERM) and holds writes for 2 s, so the send started at
                // update 10 is in flight (or failed, not yet looked at) when update 10's metrics line throws.
                if (m.Updates == 5)
                {
                    admin.GetDatabase().Execute("ACL", "SETUSER", "default", "-hset", "-hmset");
                    admin.GetDatabase().Execute("CLIENT", "PAUSE", "2000", "WRITE");
                }
                else if (m.Updates == 10) throw failure;
            });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 1);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => learner.Running.WaitAsync(RunEnd));
        var atEnd = log.Entries.ToArray();
        await Task.Delay(TimeSpan.FromSeconds(3)); // Redis takes writes again: a send still alive would now go on, and log
        UnobservedLearnerExceptions.Collect();

        Assert.Same(failure, thrown);
        Assert.Contains(atEnd, e => e.Level == LogLevel.Warning && e.Message.Contains("weights send of version 10 failed too", StringComparison.Ordinal)
                                                           && e.Message.Contains("NOPERM", StringComparison.Ordinal));
        Assert.Equal([], log.Entries.Skip(atEnd.Length).Select(e => $"{e.Level}: {e.Message}"));
        Assert.Equal([], unobserved.Messages);
    }

    [Fact]
    public async Task A_failed_weights_send_ends_the_run_at_the_next_iteration_with_its_own_error_not_at_the_next_publish()
    {
        await using var shard = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(shard.Endpoint);
        var log = new RecordedLog();
        var lines = new List<long>();
        await using var learner = await RunningLearner.StartAsync("send-fails", [shard], o => o with { WarmupTransitions = 128, PublishEvery = 20, LogInterval = 1 }, log,
            m =>
            {
                lock (lines) lines.Add(m.Updates);
                // The run state is written with HSET/HMSET: from update 10 on, Redis refuses it (NOPERM), so the send started at
                // update 20 fails. That line waits until Redis has refused it, then lets the loop go on.
                if (m.Updates == 10) admin.GetDatabase().Execute("ACL", "SETUSER", "default", "-hset", "-hmset");
                else if (m.Updates == 20) WaitForRefusedHset(admin);
            });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 1);

        var thrown = await Assert.ThrowsAsync<RedisServerException>(() => learner.Running.WaitAsync(RunEnd));

        Assert.StartsWith("NOPERM", thrown.Message);
        lock (lines) Assert.Equal(20, lines.Max()); // not update 40, the next publish, which waits for this send
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("weights version 20 could not be published", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_weights_send_that_failed_before_a_stop_is_logged_and_the_checkpoint_is_still_written()
    {
        await using var shard = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(shard.Endpoint);
        var log = new RecordedLog();
        RunningLearner? running = null;
        await using var learner = running = await RunningLearner.StartAsync("send-fails-stop", [shard], o => o with { WarmupTransitions = 128, PublishEvery = 20, LogInterval = 1 }, log,
            m =>
            {
                if (m.Updates == 10) admin.GetDatabase().Execute("ACL", "SETUSER", "default", "-hset", "-hmset");
                else if (m.Updates == 20)
                {
                    WaitForRefusedHset(admin); // the send started at update 20 has failed
                    running!.RequestStop(); // SIGTERM before the loop looks at it again
                }
            });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 1);

        // The last publish of the stop meets the same refusal and ends the run with it, after the checkpoint.
        var thrown = await Assert.ThrowsAsync<RedisServerException>(() => learner.Running.WaitAsync(RunEnd));

        Assert.StartsWith("NOPERM", thrown.Message);
        Assert.True(File.Exists(Path.Combine(learner.RunPath, "checkpoint", "learner.ckpt")), "no checkpoint was written on the stop");
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("A weights publish failed before the stop", StringComparison.Ordinal));
    }

    private static void WaitForRefusedHset(ConnectionMultiplexer admin)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (((RedisResult[])admin.GetDatabase().Execute("ACL", "LOG")!).Length == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Redis never refused the learner's write of its weights");
            Thread.Sleep(20);
        }
        Thread.Sleep(500); // the refusal's reply reaches the send
    }

    /// <summary>Task exceptions the learner left unobserved (only the learner's: other tests run in the same process), while it is not disposed.</summary>
    private sealed class UnobservedLearnerExceptions : IDisposable
    {
        private readonly List<string> _messages = [];

        public UnobservedLearnerExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages) return [.. _messages];
            }
        }

        /// <summary>Runs the finalizers that raise UnobservedTaskException for every faulted task no one observed.</summary>
        public static void Collect()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

        private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            var text = e.Exception.ToString();
            if (!text.Contains("DistSac.Learner", StringComparison.Ordinal)) return;
            lock (_messages) _messages.Add(text);
        }
    }
}
