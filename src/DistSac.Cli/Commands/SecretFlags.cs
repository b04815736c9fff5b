using System.CommandLine;

namespace DistSac.Cli.Commands;

/// <summary>
/// Flags for secrets. A secret's value is never taken from the command line: every local user can read a process's
/// argv (ps, /proc/&lt;pid&gt;/cmdline) for as long as it runs, and shell history keeps it after. A warning would come
/// after the value is already exposed, so --redis-password is refused, naming the two ways that stay private.
/// </summary>
public static class SecretFlags
{
    public static ConfigFlag RedisPasswordFile() => new("--redis-password-file", "Replay:PasswordFile",
        "File holding the Redis password (or set DISTSAC_REPLAY__PASSWORD); a password flag is refused, as ps shows it to every user.", typeof(string));

    /// <summary>The old flag, kept hidden so that using it fails with the fix instead of "unrecognized option".</summary>
    public static Option<string> RefusedRedisPassword()
    {
        var option = new Option<string>("--redis-password") { Hidden = true };
        option.Validators.Add(result => result.AddError(
            "--redis-password is refused: the command line is visible to every user on this machine (ps). " +
            "Use --redis-password-file PATH (a file only you can read) or the environment variable DISTSAC_REPLAY__PASSWORD."));
        return option;
    }
}
