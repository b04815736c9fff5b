using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DistSac.Testing;

/// <summary>
/// A throw-away PKI made at test time (nothing private is committed): a CA, a second unrelated CA, and leaf
/// certificates they issue, written as PEM files into a private temp directory deleted on dispose. Server certificates
/// name 127.0.0.1, ::1 and localhost, the addresses the tests dial.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _otherCa;
    private int _issued;

    private TestPki(string directory)
    {
        Directory = directory;
        _ca = NewAuthority("CN=DistSac Test CA");
        _otherCa = NewAuthority("CN=Someone Else's CA");
        CaFile = WritePem("ca.crt", _ca.ExportCertificatePem());
        OtherCaFile = WritePem("other-ca.crt", _otherCa.ExportCertificatePem());
    }

    /// <summary>A PEM certificate file and its PEM private key file.</summary>
    public sealed record Issued(string CertFile, string KeyFile, X509Certificate2 Certificate);

    public string Directory { get; }

    /// <summary>The CA that issues <see cref="IssueServer"/> and <see cref="IssueClient"/> certificates.</summary>
    public string CaFile { get; }

    /// <summary>A CA that has nothing to do with <see cref="CaFile"/>.</summary>
    public string OtherCaFile { get; }

    public static TestPki Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "distsac-pki-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new TestPki(directory);
    }

    /// <summary>A server certificate (serverAuth) for 127.0.0.1, ::1, localhost and <paramref name="dnsNames"/>, issued by the test CA.</summary>
    public Issued IssueServer(string name = "gateway", params string[] dnsNames) => Issue(name, _ca, serverAuth: true, dnsNames);

    /// <summary>A client certificate (clientAuth) issued by the test CA, or by the other CA.</summary>
    public Issued IssueClient(string name = "worker", bool byOtherCa = false) => Issue(name, byOtherCa ? _otherCa : _ca, serverAuth: false);

    /// <summary>Overwrites <paramref name="target"/>'s files with <paramref name="source"/>'s, as cert-manager does on renewal.</summary>
    public static void Replace(Issued target, Issued source)
    {
        File.Copy(source.CertFile, target.CertFile, overwrite: true);
        File.Copy(source.KeyFile, target.KeyFile, overwrite: true);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Issued Issue(string name, X509Certificate2 issuer, bool serverAuth, string[]? dnsNames = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddIpAddress(IPAddress.IPv6Loopback);
            names.AddDnsName("localhost");
            foreach (var dnsName in dnsNames ?? []) names.AddDnsName(dnsName);
            request.CertificateExtensions.Add(names.Build());
        }
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(issuer, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(16));
        int n = Interlocked.Increment(ref _issued);
        var certFile = WritePem($"{name}-{n}.crt", certificate.ExportCertificatePem());
        var keyFile = WritePem($"{name}-{n}.key", key.ExportPkcs8PrivateKeyPem());
        return new Issued(certFile, keyFile, X509CertificateLoader.LoadCertificate(certificate.RawData));
    }

    private static X509Certificate2 NewAuthority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
    }

    private string WritePem(string name, string pem)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, pem);
        return path;
    }
}
