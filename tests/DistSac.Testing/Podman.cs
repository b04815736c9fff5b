using System.Diagnostics;

namespace DistSac.Images.Tests;

/// <summary>Runs the podman command line to completion (or kills it at the timeout) and captures its output.</summary>
public static class Podman
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout)
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
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"podman {string.Join(' ', psi.ArgumentList)} ran past {timeout.TotalSeconds:F0} s");
            }
            return (process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>Runs podman and fails with its output unless it exits 0; returns stdout trimmed.</summary>
    public static async Task<string> CheckedAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args, TimeSpan.FromMinutes(2));
        if (code != 0) throw new InvalidOperationException($"podman {string.Join(' ', args)} exited {code}:\n{stdout}\n{stderr}");
        return stdout.Trim();
    }
}
