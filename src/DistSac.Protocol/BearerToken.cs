using System.Security.Cryptography;
using System.Text;

namespace DistSac.Protocol;

/// <summary>
/// The shared secret that gateway and workers send as "authorization: Bearer &lt;token&gt;" gRPC metadata. Read from a
/// file (e.g. a mounted Kubernetes Secret) or from configuration (an environment variable), never from a flag, since
/// argv is readable by every local user in /proc. A file is re-read when it changes (checked at most once a second),
/// and each non-empty line of it is accepted, so a token is rotated without a restart: add the new line, move the
/// clients to it, drop the old line. Clients send the first line. The value is never printed (see <see cref="ToString"/>).
/// </summary>
public sealed class BearerToken
{
    public const string MetadataKey = "authorization";
    public const int MinLength = 16;
    private const string Scheme = "Bearer ";
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly string? _file;
    private readonly string _key;
    private readonly Lock _reload = new();
    private volatile Accepted _accepted;
    private long _nextCheckTicks;

    private BearerToken(string key, string? file, Accepted accepted)
    {
        _key = key;
        _file = file;
        _accepted = accepted;
        _nextCheckTicks = Environment.TickCount64 + (long)RecheckInterval.TotalMilliseconds;
    }

    /// <summary>The tokens accepted now, as SHA-256 hashes (compared in constant time), and the one a client sends.</summary>
    private sealed record Accepted(string Send, byte[][] Hashes, string FileText);

    /// <summary>Where the token came from, for log lines: a file path or the setting's name, never the value.</summary>
    public string Origin => _file is null ? $"{_key}:Token" : $"{_key}:TokenFile {_file}";

    /// <summary>
    /// The token from <paramref name="tokenFile"/> or <paramref name="token"/> (setting names are "{section}:TokenFile" and
    /// "{section}:Token"); null when neither is set. Throws <see cref="ArgumentException"/> naming the setting when both are
    /// set, the file is missing or empty, or a token is shorter than <see cref="MinLength"/>.
    /// </summary>
    public static BearerToken? Resolve(string? token, string? tokenFile, string section)
    {
        bool hasToken = !string.IsNullOrEmpty(token), hasFile = !string.IsNullOrEmpty(tokenFile);
        if (hasToken && hasFile)
            throw new ArgumentException($"{section}:Token and {section}:TokenFile are both set; set one (the file is preferred).");
        if (hasFile) return new BearerToken(section, Path.GetFullPath(tokenFile!), ReadFile(Path.GetFullPath(tokenFile!), section));
        if (hasToken) return new BearerToken(section, null, FromLines([token!.Trim()], $"{section}:Token", ""));
        return null;
    }

    /// <summary>A token held in memory (tests, `distsac local`); same length rule as a configured one.</summary>
    public static BearerToken FromValue(string token, string section = "Token") =>
        new(section, null, FromLines([token.Trim()], $"{section}:Token", ""));

    /// <summary>A new random token (32 bytes, hex): what `distsac local` generates per run.</summary>
    public static string NewValue() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>The metadata value a client sends: "Bearer &lt;token&gt;".</summary>
    public string AuthorizationValue() => Scheme + Current().Send;

    /// <summary>
    /// True when <paramref name="authorization"/> is "Bearer &lt;an accepted token&gt;". Hashing first makes the
    /// comparison independent of the presented value's length and content.
    /// </summary>
    public bool Accepts(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)) return false;
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorization.AsSpan(Scheme.Length).Trim().ToString()), presented);
        bool match = false;
        foreach (var hash in Current().Hashes) match |= CryptographicOperations.FixedTimeEquals(presented, hash);
        return match;
    }

    public override string ToString() => $"BearerToken({Origin}, value hidden)";

    /// <summary>
    /// Re-reads the file and takes it when its content changed; a file that is briefly absent or empty keeps the old
    /// tokens. Content, not modification time: a mounted Kubernetes Secret changes by re-pointing a symlink (..data),
    /// and the time read through the token's own symlink does not change.
    /// </summary>
    private Accepted Current()
    {
        if (_file is null || Environment.TickCount64 < Interlocked.Read(ref _nextCheckTicks)) return _accepted;
        lock (_reload)
        {
            Interlocked.Exchange(ref _nextCheckTicks, Environment.TickCount64 + (long)RecheckInterval.TotalMilliseconds);
            try
            {
                var text = File.ReadAllText(_file);
                if (text != _accepted.FileText) _accepted = Parse(text, _file, _key);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Kubernetes swaps a Secret's files through a symlink; a read in the middle keeps the previous tokens.
            }
        }
        return _accepted;
    }

    private static Accepted ReadFile(string path, string section)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"{section}:TokenFile '{path}' does not exist; write the shared token into it (e.g. openssl rand -hex 32 > {path}).");
        return Parse(File.ReadAllText(path), path, section);
    }

    private static Accepted Parse(string text, string path, string section)
    {
        var lines = new List<string>();
        foreach (var line in text.Split('\n'))
            if (line.Trim() is { Length: > 0 } t) lines.Add(t);
        if (lines.Count == 0) throw new ArgumentException($"{section}:TokenFile '{path}' is empty; write the shared token into it.");
        return FromLines(lines, $"{section}:TokenFile '{path}'", text);
    }

    private static Accepted FromLines(List<string> tokens, string where, string fileText)
    {
        var hashes = new byte[tokens.Count][];
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Length < MinLength)
                throw new ArgumentException($"{where}: a token of {tokens[i].Length} characters is too short to guess-proof; use at least {MinLength} (e.g. openssl rand -hex 32).");
            hashes[i] = SHA256.HashData(Encoding.UTF8.GetBytes(tokens[i]));
        }
        return new Accepted(tokens[0], hashes, fileText);
    }
}
