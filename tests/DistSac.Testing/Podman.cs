using System.Diagnostics;

namespace DistSac.Testing;

/// <summary>
/// The podman command line, run to completion (or killed at the timeout) with its output captured: the one runner the
/// image tests and the cluster tests share.
/// </summary>
public static class Podman
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start podman.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"podman is required (DISTSAC_DEPS_IMAGES=1 bash deploy/host/install-deps.sh): {e.Message}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"podman {string.Join(' ', psi.ArgumentList)} ran past {timeout.TotalSeconds:F0} s");
            }
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>Runs podman and fails with its output unless it exits 0; returns stdout trimmed.</summary>
    public static async Task<string> CheckedAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        if (code != 0) throw new InvalidOperationException($"podman {string.Join(' ', args)} exited {code}:\n{stdout}\n{stderr}");
        return stdout.Trim();
    }
}
