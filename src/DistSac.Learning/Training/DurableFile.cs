using System.Runtime.InteropServices;

namespace DistSac.Learning.Training;

/// <summary>
/// Writes a file so that a crash or power loss leaves either the old or the new content, never a torn mix: a
/// temporary file, fsync, rename over the target, fsync of the directory (so the rename itself is durable). The
/// replaced file can be kept as a previous generation (<c>name.prev</c>) to fall back to when the newest goes bad.
/// </summary>
public static partial class DurableFile
{
    public const string PreviousSuffix = ".prev";
    public const string TemporarySuffix = ".tmp";

    public static string PreviousOf(string path) => path + PreviousSuffix;

    /// <summary>Writes <paramref name="write"/>'s bytes to <paramref name="path"/>; the old file becomes path.prev when kept.</summary>
    /// <exception cref="IOException">The folder is missing, read-only or full; the old generations are untouched.</exception>
    public static void Write(string path, Action<Stream> write, bool keepPrevious)
    {
        var temporary = path + TemporarySuffix;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            // Rotating by rename keeps both generations whole at every instant: a crash between the two moves leaves
            // path.prev (the old one) and path.tmp, and a reader falls back to path.prev.
            if (keepPrevious && File.Exists(path)) File.Move(path, PreviousOf(path), overwrite: true);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw;
        }
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>fsync of a directory makes the renames in it durable; Linux and macOS only, best effort.</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        _ = Fsync(fd);
        _ = Close(fd);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
