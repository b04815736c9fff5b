namespace DistSac.Protocol.V1;

/// <summary>
/// A request a server received: <see cref="ParseError"/> is set (and every field left at its default) when the body
/// was not a valid protobuf message, so the service answers InvalidArgument itself instead of the framework answering
/// UNKNOWN with a logged stack trace. Never sent: it is not a protobuf field.
/// </summary>
public interface IParsedRequest
{
    string? ParseError { get; }
}

public sealed partial class GetRunInfoRequest : IParsedRequest
{
    public string? ParseError { get; init; }
}

public sealed partial class PushRequest : IParsedRequest
{
    public string? ParseError { get; init; }
}

public sealed partial class WatchWeightsRequest : IParsedRequest
{
    public string? ParseError { get; init; }
}
