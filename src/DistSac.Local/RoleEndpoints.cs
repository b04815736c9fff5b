using System.Text.Json;

namespace DistSac.Local;

/// <summary>Where a role serves /healthz, /readyz and /metrics, and when it was started.</summary>
public sealed record RoleEndpoint(string Url, DateTimeOffset Started);

/// <summary>
/// runs/&lt;id&gt;/endpoints.json: the probe address `distsac local` gave each child, so `distsac status --run`
/// finds the roles without being told their ports. Rewritten as each role is added (status works during start-up).
/// </summary>
public sealed class RoleEndpoints
{
    public const string FileName = "endpoints.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly SortedDictionary<string, RoleEndpoint> _roles = new(StringComparer.Ordinal);
    private readonly string? _runDirectory;

    public RoleEndpoints(string? runDirectory = null) { _runDirectory = runDirectory; }

    public IReadOnlyDictionary<string, RoleEndpoint> Roles => _roles;

    /// <summary>Records http://127.0.0.1:&lt;port&gt; for the role and returns it (the value for its HttpListen).</summary>
    public string Add(string role, int port)
    {
        var url = $"http://127.0.0.1:{port}";
        _roles[role] = new RoleEndpoint(url, DateTimeOffset.UtcNow);
        if (_runDirectory is not null) File.WriteAllText(Path.Combine(_runDirectory, FileName), JsonSerializer.Serialize(_roles, Json));
        return url;
    }

    public static RoleEndpoints Read(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{runDirectory}' has no {FileName}: only runs started by `distsac local` record their roles' addresses. Use --gateway http://HOST:PORT for a gateway's probe address.", path);
        var roles = JsonSerializer.Deserialize<Dictionary<string, RoleEndpoint>>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} is empty.");
        var endpoints = new RoleEndpoints();
        foreach (var (role, endpoint) in roles) endpoints._roles[role] = endpoint;
        return endpoints;
    }

    public static RoleEndpoints ForOneRole(string role, string url)
    {
        var endpoints = new RoleEndpoints();
        endpoints._roles[role] = new RoleEndpoint(url.TrimEnd('/'), DateTimeOffset.MinValue);
        return endpoints;
    }
}
