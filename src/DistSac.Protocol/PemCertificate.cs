using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace DistSac.Protocol;

/// <summary>
/// A certificate with its private key, read from PEM files as cert-manager writes them (tls.crt: the leaf first, then
/// any intermediates; tls.key: PKCS#8, PKCS#1 or SEC1), for the gateway's server certificate or a worker's client
/// certificate. <see cref="Intermediates"/> are sent with the leaf so the peer can build the chain to its CA.
/// </summary>
public sealed record PemCertificate(X509Certificate2 Leaf, X509Certificate2Collection Intermediates)
{
    /// <summary>Subject, serial and expiry for log lines (no key material).</summary>
    public string Describe() => $"{Leaf.Subject}, serial {Leaf.SerialNumber}, valid until {Leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC";

    /// <summary>
    /// Watches <paramref name="certFile"/> and <paramref name="keyFile"/> (setting names <paramref name="certKey"/>,
    /// <paramref name="keyKey"/> for errors) and reloads the pair when either changes. Throws <see cref="ArgumentException"/>
    /// naming the setting when a file is missing or does not hold a certificate and its matching key.
    /// </summary>
    public static ReloadingFiles<PemCertificate> Watch(string certFile, string keyFile, string certKey, string keyKey,
        Action<PemCertificate>? reloaded = null, Action<Exception>? failed = null)
    {
        certFile = Path.GetFullPath(certFile);
        keyFile = Path.GetFullPath(keyFile);
        RequireFile(certFile, certKey);
        RequireFile(keyFile, keyKey);
        try
        {
            return new ReloadingFiles<PemCertificate>([certFile, keyFile], c => Parse(c[0], c[1], certFile, keyFile), reloaded, failed);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // CreateFromPem throws ArgumentException for a key of another certificate, CryptographicException for bad PEM.
            throw new ArgumentException($"{certKey} '{certFile}' / {keyKey} '{keyFile}': not a PEM certificate with its private key ({e.Message}).", e);
        }
    }

    /// <summary>Parses a PEM pair; throws <see cref="CryptographicException"/> when the key does not match the first certificate.</summary>
    public static PemCertificate Parse(byte[] certPem, byte[] keyPem, string certFile = "certificate", string keyFile = "key")
    {
        var certText = Encoding.ASCII.GetString(certPem);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(certText);
        if (all.Count == 0) throw new CryptographicException($"'{certFile}' holds no PEM CERTIFICATE block.");
        // CreateFromPem pairs the first CERTIFICATE block with the key and refuses a key that belongs to another certificate.
        var leaf = X509Certificate2.CreateFromPem(certText, Encoding.ASCII.GetString(keyPem));
        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < all.Count; i++) intermediates.Add(all[i]);
        return new PemCertificate(leaf, intermediates);
    }

    internal static void RequireFile(string path, string key)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"{key} '{path}' does not exist; give the path of a PEM file (e.g. a mounted kubernetes.io/tls Secret's tls.crt / tls.key / ca.crt).");
    }
}
