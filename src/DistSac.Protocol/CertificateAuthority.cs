using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace DistSac.Protocol;

/// <summary>
/// The CA certificates (a PEM bundle, e.g. ca.crt) that a peer's certificate must chain to: the gateway's for workers
/// that verify it, the workers' client certificates for a gateway with mutual TLS. Trust is this bundle only, never the
/// system store, so a certificate from any other CA, public ones included, is refused. Revocation is not checked: a
/// private CA (cert-manager's CA issuer) publishes no CRL, and short-lived certificates rotated by cert-manager are the
/// defence instead.
/// </summary>
public sealed class CertificateAuthority
{
    private CertificateAuthority(X509Certificate2Collection roots) => Roots = roots;

    public X509Certificate2Collection Roots { get; }

    /// <summary>Watches <paramref name="caFile"/> (setting name <paramref name="key"/>) and reloads it when it changes.</summary>
    public static ReloadingFiles<CertificateAuthority> Watch(string caFile, string key, Action<CertificateAuthority>? reloaded = null,
        Action<Exception>? failed = null)
    {
        caFile = Path.GetFullPath(caFile);
        PemCertificate.RequireFile(caFile, key);
        try
        {
            return new ReloadingFiles<CertificateAuthority>([caFile], c => Parse(c[0], caFile), reloaded, failed);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{key} '{caFile}': {e.Message}", e);
        }
    }

    public static CertificateAuthority Parse(byte[] pem, string file = "CA file")
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(Encoding.ASCII.GetString(pem));
        if (roots.Count == 0) throw new CryptographicException($"'{file}' holds no PEM CERTIFICATE block; give the CA certificate (e.g. ca.crt).");
        return new CertificateAuthority(roots);
    }

    /// <summary>A chain policy that trusts exactly these roots (for SslStream's CertificateChainPolicy).</summary>
    public X509ChainPolicy ChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(Roots);
        return policy;
    }

    /// <summary>
    /// For a RemoteCertificateValidationCallback: true when the peer presented a certificate that chains to these roots
    /// (using the intermediates it sent) and is meant for its side (serverAuth / clientAuth extended key usage). A name
    /// mismatch found by SslStream (the server's certificate does not name the host dialled) is refused whatever the chain.
    /// </summary>
    public bool Validates(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, bool peerIsClient)
    {
        // Chain errors come from SslStream's judgement against the system store; they are judged again against our roots.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
        using var chain = new X509Chain { ChainPolicy = ChainPolicy() };
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(peerIsClient ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1"));
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
