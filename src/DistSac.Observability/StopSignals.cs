using System.Runtime.InteropServices;

namespace DistSac.Observability;

/// <summary>
/// Ctrl-C and SIGTERM as one cancellation token for the whole life of a role process: the command stops cleanly and the
/// process exits with the command's own code. The registrations are never disposed: a signal that arrives after the
/// command returned, while the runtime tears down (libtorch, the thread pool), would otherwise get the runtime's
/// default action, and a process that had ended cleanly would exit 143 (seen when a learner that had just reached its
/// target was sent SIGTERM), which orchestrators and supervisors read as a crash.
/// </summary>
public static class StopSignals
{
    private static readonly CancellationTokenSource Stopping = new();
    private static readonly Lock Gate = new();
    private static PosixSignalRegistration[]? s_registrations;

    /// <summary>Registers the handlers (once per process); the token is cancelled at the first Ctrl-C or SIGTERM.</summary>
    public static CancellationToken Register()
    {
        lock (Gate)
        {
            s_registrations ??= [PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop)];
        }
        return Stopping.Token;
    }

    private static void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        Stopping.Cancel();
    }
}
