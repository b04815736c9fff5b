namespace DistSac.Protocol;

/// <summary>Limits both ends agree on; gRPC message sizes are set explicitly from these, never left to defaults.</summary>
public static class ProtocolLimits
{
    /// <summary>2: pushes carry RunInfo.incarnation (exactly-once across worker restarts).</summary>
    public const int ProtocolVersion = 2;
    /// <summary>Largest PushRequest.transition_count a gateway accepts.</summary>
    public const int MaxBatchTransitions = 4096;
    /// <summary>Largest gRPC message either side sends or accepts (pushes of MaxBatchTransitions large records, actor weights).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>Bytes of one packed record: 4 * (2O + A + 3) (obs, action, reward, next_obs, terminated, policy version).</summary>
    public static int RecordBytes(int observationSize, int actionSize) => 4 * (2 * observationSize + actionSize + 3);
}
