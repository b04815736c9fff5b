using DistSac.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Gateway;

/// <summary>
/// Binds <see cref="ReplayGatewayService"/> with request marshallers that never throw. grpc-dotnet parses a request
/// before any handler or interceptor runs, and a parse exception there becomes UNKNOWN "Exception was thrown by
/// handler." with an error-level stack trace per request, so any client could flood the logs. Here a body that is not
/// a valid message becomes a request with <see cref="IParsedRequest.ParseError"/> set; the service answers it with
/// InvalidArgument and logs it at most once per client per interval (<see cref="MalformedRequestLog"/>).
/// Method names and the service name are the generated ones, so clients see the same API.
/// </summary>
public static class ReplayGatewayBinding
{
    /// <summary>Longest protobuf parser message kept in a status detail or log line.</summary>
    private const int MaxErrorLength = 120;

    /// <summary>Called by grpc-dotnet through the <see cref="BindServiceMethodAttribute"/> on the service; handlers are found by name.</summary>
    public static void BindService(ServiceBinderBase binder, ReplayGateway.ReplayGatewayBase service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        string name = ReplayGateway.Descriptor.FullName;
        binder.AddMethod(
            new Method<GetRunInfoRequest, RunInfo>(MethodType.Unary, name, "GetRunInfo",
                Request(GetRunInfoRequest.Parser, static e => new GetRunInfoRequest { ParseError = e }), Response<RunInfo>()),
            (UnaryServerMethod<GetRunInfoRequest, RunInfo>)null!);
        binder.AddMethod(
            new Method<PushRequest, PushResponse>(MethodType.Unary, name, "Push",
                Request(PushRequest.Parser, static e => new PushRequest { ParseError = e }), Response<PushResponse>()),
            (UnaryServerMethod<PushRequest, PushResponse>)null!);
        binder.AddMethod(
            new Method<WatchWeightsRequest, WeightsUpdate>(MethodType.ServerStreaming, name, "WatchWeights",
                Request(WatchWeightsRequest.Parser, static e => new WatchWeightsRequest { ParseError = e }), Response<WeightsUpdate>()),
            (ServerStreamingServerMethod<WatchWeightsRequest, WeightsUpdate>)null!);
    }

    private static Marshaller<T> Request<T>(MessageParser<T> parser, Func<string, T> malformed) where T : IMessage<T> =>
        Marshallers.Create<T>(
            static (_, _) => throw new NotSupportedException("the gateway never sends requests"),
            context =>
            {
                try
                {
                    // Zero-copy over the received frame, as the generated marshaller does.
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
                }
                catch (InvalidProtocolBufferException e)
                {
                    return malformed(FirstSentence(e.Message));
                }
            });

    /// <summary>The parser's first sentence ("... the input ended unexpectedly in the middle of a field."), at most 120 characters.</summary>
    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        string first = end < 0 ? message : message[..(end + 1)];
        return first.Length <= MaxErrorLength ? first : first[..MaxErrorLength] + "...";
    }

    private static Marshaller<T> Response<T>() where T : IMessage<T> =>
        Marshallers.Create<T>(
            static (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            static _ => throw new NotSupportedException("the gateway never receives responses"));
}
