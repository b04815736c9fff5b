using DistSac.Protocol;
using DistSac.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace DistSac.Faults.Tests;

/// <summary>
/// A foreign client at the gateway: random bytes, mutated (bit-flipped, truncated, extended) valid PushRequest bodies,
/// and well-formed pushes that carry one out-of-range or non-finite value among good records. Every answer must be a
/// clean status (never UNKNOWN/INTERNAL, which mean an unhandled exception), out-of-range batches INVALID_ARGUMENT,
/// and nothing may be stored under the fuzzer's worker ids.
/// </summary>
public sealed class GatewayFuzzer(Random random)
{
    public const string IdPrefix = "fuzz-";
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static (byte[] b) => b, static b => b);
    private static readonly TransitionRecord Pendulum = new(3, 1);
    private static readonly Method<byte[], byte[]> RawPush =
        new(MethodType.Unary, ReplayGateway.Descriptor.FullName, "Push", Raw, Raw);
    private static readonly Method<byte[], byte[]> RawRunInfo =
        new(MethodType.Unary, ReplayGateway.Descriptor.FullName, "GetRunInfo", Raw, Raw);

    public sealed record Report(int Sent, Dictionary<StatusCode, int> Statuses);

    public async Task<Report> RunAsync(string address, int requests)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var invoker = channel.CreateCallInvoker();
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        // A registered fuzzer id with a real incarnation, so its out-of-range pushes pass every check but the bounds.
        var info = await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = IdPrefix + "range" }, deadline: DateTime.UtcNow.AddSeconds(10));
        var statuses = new Dictionary<StatusCode, int>();
        for (int i = 0; i < requests; i++)
        {
            int kind = random.Next(4);
            var status = kind switch
            {
                0 => await CallAsync(invoker, random.Next(2) == 0 ? RawPush : RawRunInfo, RandomBytes(random.Next(0, 512))),
                1 => await CallAsync(invoker, RawPush, Mutate(ValidPush(IdPrefix + "mutant", incarnation: 1, sequence: i, Records(4, bad: -1)).ToByteArray())),
                _ => await OutOfRangeAsync(invoker, info.Incarnation, sequence: 0), // refused, so its lane never starts
            };
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.False(status is StatusCode.Unknown or StatusCode.Internal, $"request {i} (kind {kind}) got {status}: the gateway threw on input");
        }
        return new Report(requests, statuses);
    }

    private async Task<StatusCode> OutOfRangeAsync(CallInvoker invoker, long incarnation, long sequence)
    {
        int count = random.Next(1, 8);
        var push = ValidPush(IdPrefix + "range", incarnation, sequence, Records(count, bad: random.Next(count)));
        var status = await CallAsync(invoker, RawPush, push.ToByteArray());
        Assert.True(status == StatusCode.InvalidArgument, $"an out-of-range push got {status}, not InvalidArgument");
        return status;
    }

    private static PushRequest ValidPush(string id, long incarnation, long sequence, byte[] records) => new()
    {
        WorkerId = id, Incarnation = incarnation, Sequence = sequence, TransitionCount = records.Length / Pendulum.RecordBytes,
        Records = ByteString.CopyFrom(records),
    };

    /// <summary>Pendulum-v1 records inside every bound, except record <paramref name="bad"/> (none when -1) which gets one bad value.</summary>
    private byte[] Records(int count, int bad)
    {
        var bytes = new byte[count * Pendulum.RecordBytes];
        Span<float> obs = stackalloc float[3], next = stackalloc float[3], action = stackalloc float[1];
        for (int i = 0; i < count; i++)
        {
            obs[0] = 0.6f; obs[1] = 0.8f; obs[2] = 1f;
            next[0] = 0.8f; next[1] = 0.6f; next[2] = -1f;
            action[0] = 0.5f;
            float reward = -3f;
            bool terminated = false;
            if (i == bad)
            {
                switch (random.Next(7))
                {
                    case 0: action[0] = 5f; break;                    // action bound is +-2
                    case 1: action[0] = -100f; break;
                    case 2: obs[0] = 5f; break;                       // cos(theta) <= 1
                    case 3: next[2] = float.NaN; break;
                    case 4: obs[2] = 3e38f; break;
                    case 5: reward = 50f; break;                      // Pendulum rewards are in [-16.27, 0]
                    default: next[1] = float.PositiveInfinity; break;
                }
            }
            Pendulum.Write(bytes.AsSpan(i * Pendulum.RecordBytes, Pendulum.RecordBytes), obs, action, reward, next, terminated, policyVersion: 0);
        }
        return bytes;
    }

    private byte[] RandomBytes(int length)
    {
        var b = new byte[length];
        random.NextBytes(b);
        return b;
    }

    private byte[] Mutate(byte[] body)
    {
        switch (random.Next(3))
        {
            case 0:
                for (int k = random.Next(1, 8); k > 0; k--) body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                return body;
            case 1:
                return body[..random.Next(body.Length)];
            default:
                return [.. body, .. RandomBytes(random.Next(1, 64))];
        }
    }

    private static async Task<StatusCode> CallAsync(CallInvoker invoker, Method<byte[], byte[]> method, byte[] body)
    {
        try
        {
            await invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), body);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
