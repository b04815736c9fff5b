namespace DistSac.Settings;

/// <summary>
/// A configuration that cannot be used as given (a value that does not bind, a run that cannot be resumed); the
/// message names the fix. `distsac` prints it as "error: ..." and exits 2. Here, not in the CLI, so `distsac local`'s
/// project (DistSac.Local) throws the same one.
/// </summary>
public sealed class ConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
