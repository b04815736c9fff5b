using System.Security.Cryptography;
using System.Text;
using DistSac.Protocol;

namespace DistSac.Local;

/// <summary>
/// The per-run secrets of `distsac local`: a gateway token and a Redis password, both random and new each run. They
/// reach the children only through the environment (readable by the same user, unlike argv which every local user
/// sees in /proc) and, for redis-server, through a config file (mode 0600, in a private temp directory deleted when
/// the run ends) whose path is the only thing on its command line. Nothing here is written to the run directory.
/// </summary>
public sealed class LocalSecrets : IDisposable
{
    private readonly string _dir;

    private LocalSecrets(string dir, string token, string redisPassword, string redisConfig)
    {
        _dir = dir;
        Token = token;
        RedisPassword = redisPassword;
        RedisConfig = redisConfig;
    }

    public string Token { get; }
    public string RedisPassword { get; }

    /// <summary>A redis.conf holding only "requirepass": pass it as redis-server's first argument.</summary>
    public string RedisConfig { get; }

    public static LocalSecrets Create()
    {
        var dir = Directory.CreateTempSubdirectory("distsac-secrets-").FullName; // 0700 on Unix
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var config = Path.Combine(dir, "redis.conf");
        // Created 0600 before the password is written, so it is never readable by others even for a moment.
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(config, create))
        {
            file.Write(Encoding.ASCII.GetBytes($"requirepass {password}\n"));
        }
        return new LocalSecrets(dir, BearerToken.NewValue(), password, config);
    }

    /// <summary>The variables that carry the Redis password (gateway, learner) and the token (gateway, workers).</summary>
    public void AddReplayPassword(IDictionary<string, string> environment) => environment["DISTSAC_REPLAY__PASSWORD"] = RedisPassword;

    public void AddGatewayToken(IDictionary<string, string> environment) => environment["DISTSAC_GATEWAY__TOKEN"] = Token;

    public void AddWorkerToken(IDictionary<string, string> environment) => environment["DISTSAC_WORKER__TOKEN"] = Token;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
