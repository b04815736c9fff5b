namespace DistSac.Protocol;

/// <summary>Limits both ends agree on; gRPC message sizes are set explicitly from these, never left to defaults.</summary>
public static class ProtocolLimits
{
    /// <summary>
    /// Still 1 although pushes now must carry RunInfo.incarnation: a client without it is refused at its first push with
    /// INVALID_ARGUMENT saying so. (Not bumped because the learner also writes this number as the run's record schema
    /// version, ReplayMetadata.SchemaVersion, which the gateway checks against ReplayLimits.SchemaVersion.)
    /// </summary>
    public const int ProtocolVersion = 1;
    /// <summary>Largest PushRequest.transition_count a gateway accepts.</summary>
    public const int MaxBatchTransitions = 4096;
    /// <summary>Largest gRPC message either side sends or accepts (pushes of MaxBatchTransitions large records, actor weights).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>Bytes of one packed record: 4 * (2O + A + 3) (obs, action, reward, next_obs, terminated, policy version).</summary>
    public static int RecordBytes(int observationSize, int actionSize) => 4 * (2 * observationSize + actionSize + 3);
}
