using System.Net;
using System.Text.RegularExpressions;

namespace DistSac.Gateway;

/// <summary>A parsed "http://host:port" (cleartext HTTP/2) or "https://host:port" (TLS, see <see cref="GatewayTls"/>) listen address.</summary>
public readonly partial record struct ListenAddress(IPAddress? Address, int Port)
{
    /// <summary>True for https://: the endpoint serves TLS with Gateway:TlsCertFile / TlsKeyFile.</summary>
    public bool Https { get; init; }

    private const string Key = "Gateway:Listen";

    /// <summary>True for "localhost": Kestrel then binds both loopback addresses.</summary>
    public bool IsLocalhost => Address is null;

    /// <summary>True when only this machine can connect: "localhost", 127.0.0.0/8 or ::1 (not 0.0.0.0, [::] or a pod IP).</summary>
    public bool IsLoopback => Address is null || IPAddress.IsLoopback(Address);

    public static ListenAddress Parse(string value) => Parse(value, Key);

    /// <summary>Parses an address for the setting <paramref name="key"/>, which error messages name.</summary>
    public static ListenAddress Parse(string value, string key)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"{key} is empty; give an address such as http://127.0.0.1:50051 (this machine) or http://0.0.0.0:50051 (every interface).");
        var match = HostPort().Match(value);
        if (!match.Success)
            throw new ArgumentException($"{key} '{value}' is not of the form http://host:port or https://host:port, e.g. http://127.0.0.1:50051 (port 0 picks a free one).");
        var host = match.Groups["host"].Value;
        bool https = match.Groups["scheme"].Value.Length == 5;
        if (!int.TryParse(match.Groups["port"].Value, out var port) || port > IPEndPoint.MaxPort)
            throw new ArgumentException($"{key} '{value}': port must be in [0, {IPEndPoint.MaxPort}].");
        // "*" and "+" are the ASP.NET spellings of "every interface".
        if (host is "*" or "+") return new ListenAddress(IPAddress.Any, port) { Https = https };
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new ListenAddress(null, port) { Https = https };
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            throw new ArgumentException($"{key} '{value}': host '{host}' is not an IP address; use 0.0.0.0 (all interfaces), [::], 127.0.0.1 or localhost.");
        return new ListenAddress(ip, port) { Https = https };
    }

    [GeneratedRegex(@"^(?<scheme>https?)://(?<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):(?<port>\d{1,5})/?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostPort();
}
