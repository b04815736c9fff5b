using DistSac.Processes;

namespace DistSac.Testing;

/// <summary>
/// Loopback TCP ports that are free now, from below the kernel's ephemeral range (see <see cref="LoopbackPorts"/>), so
/// an outgoing connection of a parallel test cannot take one before the server under test binds it.
/// </summary>
public static class FreePort
{
    public static int Next() => LoopbackPorts.Next();
}
