using Grpc.Core;

namespace DistSac.Worker;

/// <summary>Which gateway errors are worth retrying and which mean a bug that retrying would only repeat.</summary>
internal static class GrpcFailure
{
    /// <summary>
    /// The gateway rejected what we sent (bad batch, wrong run, missing method): the same bytes will be rejected
    /// again, so the worker stops loudly instead. Everything else (Unavailable, DeadlineExceeded, a refused
    /// connection, a server shutting down) is transient.
    /// </summary>
    public static bool IsFatal(StatusCode code) => code
        is StatusCode.InvalidArgument
        or StatusCode.FailedPrecondition
        or StatusCode.OutOfRange
        or StatusCode.Unimplemented
        or StatusCode.Unauthenticated
        or StatusCode.PermissionDenied;
}
