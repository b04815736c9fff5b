using System.Security.Cryptography;

namespace DistSac.Protocol;

/// <summary>
/// A value built from the bytes of a few small files (PEM certificates, keys, CA bundles), rebuilt when any of them
/// changes. The files are read again at most once per <see cref="RecheckInterval"/>, on the caller's thread, and
/// compared by content rather than by modification time: a Kubernetes Secret (cert-manager's tls.crt / tls.key) is
/// swapped through a symlink whose own time never changes. A change that does not build (the certificate already new,
/// its key not yet written) keeps the previous value and is tried again at the next check.
/// </summary>
public sealed class ReloadingFiles<T> where T : class
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly string[] _paths;
    private readonly Func<byte[][], T> _build;
    private readonly Action<T>? _reloaded;
    private readonly Action<Exception>? _failed;
    private readonly Lock _reload = new();
    private volatile T _current;
    private byte[] _fingerprint;
    private byte[]? _failedFingerprint;
    private long _nextCheckTicks;

    /// <summary>Reads and builds once; the exception of <paramref name="build"/> (or a missing file) surfaces to the caller.</summary>
    /// <param name="reloaded">Called after a changed set of files was built and taken into use.</param>
    /// <param name="failed">Called once per changed set of files that does not build (the previous value stays).</param>
    public ReloadingFiles(string[] paths, Func<byte[][], T> build, Action<T>? reloaded = null, Action<Exception>? failed = null)
    {
        _paths = paths;
        _build = build;
        _reloaded = reloaded;
        _failed = failed;
        var contents = Read(paths);
        _current = build(contents);
        _fingerprint = Fingerprint(contents);
        _nextCheckTicks = Environment.TickCount64 + (long)RecheckInterval.TotalMilliseconds;
    }

    /// <summary>Successful rebuilds since the start.</summary>
    public int Reloads { get; private set; }

    /// <summary>The value for the files as they are now (checked at most once per <see cref="RecheckInterval"/>).</summary>
    public T Current
    {
        get
        {
            if (Environment.TickCount64 < Interlocked.Read(ref _nextCheckTicks)) return _current;
            lock (_reload)
            {
                if (Environment.TickCount64 >= Interlocked.Read(ref _nextCheckTicks))
                {
                    Interlocked.Exchange(ref _nextCheckTicks, Environment.TickCount64 + (long)RecheckInterval.TotalMilliseconds);
                    Recheck();
                }
            }
            return _current;
        }
    }

    private void Recheck()
    {
        byte[][] contents;
        try
        {
            contents = Read(_paths);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // a file briefly absent while its Secret is swapped: keep the value, look again later
        }
        var fingerprint = Fingerprint(contents);
        if (fingerprint.AsSpan().SequenceEqual(_fingerprint) || fingerprint.AsSpan().SequenceEqual(_failedFingerprint)) return;
        try
        {
            _current = _build(contents);
            _fingerprint = fingerprint;
            _failedFingerprint = null;
            Reloads++;
            _reloaded?.Invoke(_current);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            _failedFingerprint = fingerprint;
            _failed?.Invoke(e);
        }
    }

    private static byte[][] Read(string[] paths)
    {
        var contents = new byte[paths.Length][];
        for (int i = 0; i < paths.Length; i++) contents[i] = File.ReadAllBytes(paths[i]);
        return contents;
    }

    private static byte[] Fingerprint(byte[][] contents)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var c in contents)
        {
            hash.AppendData(BitConverter.GetBytes(c.Length));
            hash.AppendData(c);
        }
        return hash.GetHashAndReset();
    }
}
