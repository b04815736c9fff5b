using System.Net.Security;
using DistSac.Protocol;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// TLS of the gateway's gRPC endpoint: the server certificate and key from PEM files (Gateway:TlsCertFile,
/// Gateway:TlsKeyFile), re-read when they change so cert-manager can rotate them under a running gateway, and optional
/// mutual TLS (Gateway:TlsClientCaFile): every connection must present a client certificate issued by that CA, or its
/// handshake fails before any gRPC call is read. Each handshake takes the certificate current at that moment; open
/// connections keep the one they started with.
/// </summary>
public sealed class GatewayTls
{
    private const string CertKey = $"{GatewayOptions.Section}:{nameof(GatewayOptions.TlsCertFile)}";
    private const string KeyKey = $"{GatewayOptions.Section}:{nameof(GatewayOptions.TlsKeyFile)}";
    private const string CaKey = $"{GatewayOptions.Section}:{nameof(GatewayOptions.TlsClientCaFile)}";
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly ReloadingFiles<PemCertificate> _certificate;
    private readonly ReloadingFiles<CertificateAuthority>? _clientCa;
    private readonly ILogger _logger;
    private readonly Lock _contextLock = new();
    private PemCertificate? _contextFor;
    private SslStreamCertificateContext? _context;
    private long _refused;
    private long _nextLogTicks;

    private GatewayTls(GatewayOptions options, ILogger logger)
    {
        _logger = logger;
        _certificate = PemCertificate.Watch(options.TlsCertFile, options.TlsKeyFile, CertKey, KeyKey,
            c => logger.LogInformation("TLS certificate reloaded from {File}: {Certificate}", options.TlsCertFile, c.Describe()),
            e => logger.LogWarning("TLS certificate files changed but do not load yet (the previous certificate stays): {Reason}", e.Message));
        if (!string.IsNullOrEmpty(options.TlsClientCaFile))
        {
            _clientCa = CertificateAuthority.Watch(options.TlsClientCaFile, CaKey,
                _ => logger.LogInformation("Client CA reloaded from {File}", options.TlsClientCaFile),
                e => logger.LogWarning("Client CA file changed but does not load (the previous CA stays): {Reason}", e.Message));
        }
    }

    /// <summary>True when client certificates are required and checked against Gateway:TlsClientCaFile.</summary>
    public bool Mutual => _clientCa is not null;

    /// <summary>Handshakes refused because the client presented no certificate or one not issued by the client CA.</summary>
    public long RefusedClientCertificates => Interlocked.Read(ref _refused);

    /// <summary>The certificate handshakes use now.</summary>
    public PemCertificate Certificate => _certificate.Current;

    /// <summary>
    /// The TLS set-up for <paramref name="listen"/>, or null for cleartext. Throws <see cref="ArgumentException"/> (exit 2)
    /// naming the setting when the scheme and the files disagree or a file does not load.
    /// </summary>
    public static GatewayTls? Resolve(GatewayOptions options, ListenAddress listen, ILogger logger)
    {
        bool cert = !string.IsNullOrEmpty(options.TlsCertFile), key = !string.IsNullOrEmpty(options.TlsKeyFile);
        if (cert != key)
            throw new ArgumentException($"{CertKey} and {KeyKey} go together: set both (the certificate PEM and its private key PEM, e.g. tls.crt and tls.key).");
        if (!cert && !string.IsNullOrEmpty(options.TlsClientCaFile))
            throw new ArgumentException($"{CaKey} (mutual TLS) needs TLS: set {CertKey} and {KeyKey} and listen on https://.");
        if (listen.Https && !cert)
            throw new ArgumentException($"Gateway:Listen '{options.Listen}' is https:// but no certificate is set: set {CertKey} and {KeyKey}, or listen on http://.");
        if (!listen.Https && cert)
            throw new ArgumentException($"{CertKey} is set but Gateway:Listen '{options.Listen}' is http:// (cleartext): listen on https://{options.Listen["http://".Length..]}.");
        return cert ? new GatewayTls(options, logger) : null;
    }

    /// <summary>Serves <paramref name="listen"/> over TLS with the current certificate, asking for client certificates when mutual.</summary>
    public void Apply(ListenOptions listen) => listen.UseHttps(new TlsHandshakeCallbackOptions
    {
        OnConnection = _ => ValueTask.FromResult(ServerOptions()),
        HandshakeTimeout = TimeSpan.FromSeconds(10),
    });

    /// <summary>A line for the start-up log.</summary>
    public string Describe() => Mutual
        ? $"mutual TLS: certificate {_certificate.Current.Describe()}; client certificates required, issued by the CA in {CaKey}"
        : $"TLS: certificate {_certificate.Current.Describe()}; no client certificates (set {CaKey} for mutual TLS)";

    private SslServerAuthenticationOptions ServerOptions()
    {
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = Context(_certificate.Current),
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        };
        if (_clientCa is { } ca)
        {
            var authority = ca.Current;
            options.ClientCertificateRequired = true;
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (authority.Validates(certificate, chain, errors, peerIsClient: true)) return true;
                LogRefusal(certificate is null ? "no client certificate" : $"client certificate '{certificate.Subject}' not issued by the CA in {CaKey}");
                return false;
            };
        }
        return options;
    }

    /// <summary>One SslStreamCertificateContext (leaf plus intermediates) per loaded certificate, not per handshake.</summary>
    private SslStreamCertificateContext Context(PemCertificate certificate)
    {
        lock (_contextLock)
        {
            if (!ReferenceEquals(_contextFor, certificate))
            {
                _context = SslStreamCertificateContext.Create(certificate.Leaf, certificate.Intermediates, offline: true);
                _contextFor = certificate;
            }
            return _context!;
        }
    }

    private void LogRefusal(string reason)
    {
        long refused = Interlocked.Increment(ref _refused);
        long now = Environment.TickCount64, next = Interlocked.Read(ref _nextLogTicks);
        if (now >= next && Interlocked.CompareExchange(ref _nextLogTicks, now + (long)LogInterval.TotalMilliseconds, next) == next)
            _logger.LogWarning("Refused a TLS handshake: {Reason} ({Refused} refused so far)", reason, refused);
    }
}
