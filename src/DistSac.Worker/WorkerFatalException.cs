namespace DistSac.Worker;

/// <summary>A condition that retrying cannot fix (the gateway rejected a batch, the run does not fit this worker).</summary>
public sealed class WorkerFatalException : Exception
{
    public WorkerFatalException(string message)
        : base(message)
    {
    }

    public WorkerFatalException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public WorkerFatalException()
    {
    }
}
