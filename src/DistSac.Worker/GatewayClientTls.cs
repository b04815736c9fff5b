using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DistSac.Protocol;

namespace DistSac.Worker;

/// <summary>
/// TLS of the worker's connection to the gateway: the server is verified against Worker:TlsCaFile when set (only that
/// CA is trusted; else the system store), and Worker:TlsCertFile / TlsKeyFile are presented as the client certificate
/// for a gateway with mutual TLS. All three files are re-read when they change (cert-manager rotation); each new
/// connection takes the current ones. TLS is on for https:// addresses, and for dns:/// addresses when a CA file is set.
/// </summary>
public sealed class GatewayClientTls
{
    private const string CaKey = $"{WorkerOptions.Section}:{nameof(WorkerOptions.TlsCaFile)}";
    private const string CertKey = $"{WorkerOptions.Section}:{nameof(WorkerOptions.TlsCertFile)}";
    private const string KeyKey = $"{WorkerOptions.Section}:{nameof(WorkerOptions.TlsKeyFile)}";

    private readonly ReloadingFiles<CertificateAuthority>? _ca;
    private readonly ReloadingFiles<PemCertificate>? _certificate;

    private GatewayClientTls(WorkerOptions options)
    {
        if (!string.IsNullOrEmpty(options.TlsCaFile)) _ca = CertificateAuthority.Watch(options.TlsCaFile, CaKey);
        if (!string.IsNullOrEmpty(options.TlsCertFile)) _certificate = PemCertificate.Watch(options.TlsCertFile, options.TlsKeyFile, CertKey, KeyKey);
    }

    /// <summary>
    /// The TLS set-up for the worker's gateway address, or null for cleartext (http://). Throws
    /// <see cref="ArgumentException"/> (exit 2) naming the setting when the address and the files disagree or a file does not load.
    /// </summary>
    public static GatewayClientTls? Resolve(WorkerOptions options)
    {
        bool ca = !string.IsNullOrEmpty(options.TlsCaFile), cert = !string.IsNullOrEmpty(options.TlsCertFile), key = !string.IsNullOrEmpty(options.TlsKeyFile);
        if (cert != key)
            throw new ArgumentException($"{CertKey} and {KeyKey} go together: set both (the client certificate PEM and its private key PEM).");
        bool https = options.Gateway.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        bool dns = options.Gateway.StartsWith("dns:", StringComparison.OrdinalIgnoreCase);
        if (!https && !dns && (ca || cert))
            throw new ArgumentException($"Worker:Gateway '{options.Gateway}' is http:// (cleartext) but TLS files are set: use https:// (or drop {CaKey} / {CertKey}).");
        if (dns && cert && !ca)
            throw new ArgumentException($"Worker:Gateway '{options.Gateway}' with a client certificate needs {CaKey}: a dns:/// address speaks TLS only when the CA file is set.");
        return https || (dns && ca) ? new GatewayClientTls(options) : null;
    }

    /// <summary>True when a client certificate is presented (for a gateway with mutual TLS).</summary>
    public bool PresentsCertificate => _certificate is not null;

    /// <summary>A line for the start-up log.</summary>
    public string Describe() =>
        (_ca is null ? "TLS, server verified against the system's trusted CAs" : $"TLS, server verified against the CA in {CaKey} only") +
        (_certificate is null ? ", no client certificate" : $", client certificate {_certificate.Current.Describe()}");

    /// <summary>Makes <paramref name="handler"/>'s connections verify the gateway and present the client certificate.</summary>
    public void Apply(SocketsHttpHandler handler)
    {
        var ssl = new SslClientAuthenticationOptions { ApplicationProtocols = [SslApplicationProtocol.Http2] };
        if (_ca is { } ca) ssl.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ca.Current.Validates(certificate, chain, errors, peerIsClient: false);
        if (_certificate is { } own)
        {
            // Asked per handshake, so a rotated client certificate is used by the next connection without a restart.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => own.Current.Leaf;
        }
        handler.SslOptions = ssl;
    }

    /// <summary>The client certificate presented now (tests check rotation with it).</summary>
    internal X509Certificate2? CurrentCertificate => _certificate?.Current.Leaf;
}
