using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using DistSac.Learning.Networks;
using DistSac.Learning.Training;
using DistSac.Policy;
using static TorchSharp.torch;

namespace DistSac.Learner.Tests;

/// <summary>The update loop's publish: a host copy now, serialization and sending in the background, one send at a time.</summary>
public sealed class WeightsPublisherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static SquashedGaussianActor NewActor()
    {
        manual_seed(5);
        return new SquashedGaussianActor(3, 1, [16, 16], [-2f], [2f], CPU);
    }

    private static byte[] ArrayOf(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) ? segment.Array! : throw new InvalidOperationException("not an array");

    [Fact]
    public async Task A_publish_returns_while_its_send_is_in_flight_and_the_next_publish_waits_for_that_send()
    {
        using var actor = NewActor();
        var publisher = new WeightsPublisher(actor);
        var firstSending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var versions = new ConcurrentQueue<long>();
        async Task Send(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            var version = ActorWeights.FromBytes(bytes.Span).Version;
            versions.Enqueue(version);
            if (version == 1)
            {
                firstSending.SetResult();
                await releaseFirst.Task;
            }
        }

        await publisher.StartAsync(actor, 1, Send, CancellationToken.None).WaitAsync(Timeout); // not held by the send
        await firstSending.Task.WaitAsync(Timeout);
        var second = publisher.StartAsync(actor, 2, Send, CancellationToken.None);
        await Task.Delay(200);
        Assert.False(second.IsCompleted); // version 2 waits until version 1 is stored
        Assert.Equal([1L], versions);

        releaseFirst.SetResult();
        await second.WaitAsync(Timeout);
        await publisher.WaitAsync().WaitAsync(Timeout);
        Assert.Equal([1L, 2L], versions);
    }

    [Fact]
    public async Task The_bytes_sent_are_the_actor_when_the_publish_started_in_one_buffer_reused_from_send_to_send()
    {
        using var actor = NewActor();
        var expected = ActorExport.ToActorWeights(actor, 7).ToBytes();
        var publisher = new WeightsPublisher(actor);
        var sent = new List<(byte[] Bytes, byte[] Buffer)>();
        Task Send(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            sent.Add((bytes.ToArray(), ArrayOf(bytes)));
            return Task.CompletedTask;
        }

        await publisher.StartAsync(actor, 7, Send, CancellationToken.None);
        using (no_grad()) actor.Parameters.Values.add_(1f); // the next update, while version 7 is being serialized
        await publisher.WaitAsync().WaitAsync(Timeout);
        await publisher.StartAsync(actor, 8, Send, CancellationToken.None);
        await publisher.WaitAsync().WaitAsync(Timeout);

        Assert.Equal(expected, sent[0].Bytes);
        Assert.Equal(ActorExport.ToActorWeights(actor, 8).ToBytes(), sent[1].Bytes);
        Assert.Same(sent[0].Buffer, sent[1].Buffer);
    }

    [Fact]
    public async Task A_failed_send_is_rethrown_once_by_the_next_publish_and_the_send_after_it_gets_a_fresh_buffer()
    {
        using var actor = NewActor();
        var publisher = new WeightsPublisher(actor);
        var buffers = new List<byte[]>();
        Task Fail(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            buffers.Add(ArrayOf(bytes));
            throw new InvalidOperationException("shard gone");
        }
        Task Store(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            buffers.Add(ArrayOf(bytes));
            return Task.CompletedTask;
        }

        await publisher.StartAsync(actor, 1, Fail, CancellationToken.None);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.StartAsync(actor, 2, Store, CancellationToken.None));
        Assert.Equal("shard gone", e.Message);
        await publisher.StartAsync(actor, 2, Store, CancellationToken.None); // reported once: the next publish goes ahead
        await publisher.WaitAsync().WaitAsync(Timeout);

        Assert.Equal(2, buffers.Count);
        Assert.NotSame(buffers[0], buffers[1]); // the failed send's bytes may still be queued in the Redis client
    }

    [Fact]
    public async Task A_failed_send_is_flagged_with_its_version_until_its_failure_is_taken()
    {
        using var actor = NewActor();
        var publisher = new WeightsPublisher(actor);
        Assert.False(publisher.SendFailed);

        await publisher.StartAsync(actor, 4, (_, _) => throw new InvalidOperationException("NOPERM"), CancellationToken.None);
        var deadline = DateTime.UtcNow + Timeout;
        while (!publisher.SendFailed)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed send was never flagged");
            await Task.Delay(10);
        }

        Assert.Equal(4, publisher.LastVersion);
        await Assert.ThrowsAsync<InvalidOperationException>(publisher.WaitAsync);
        Assert.False(publisher.SendFailed); // taken once: the loop does not end twice on it
    }
}
