using System.Diagnostics;

namespace DistSac.Envs.Tests.NumpyRandom;

/// <summary>A python3 with numpy on this machine (Debian: apt-get install python3-numpy), found once per test run.</summary>
internal static class NumpyPython
{
    private static readonly Lazy<string?> Executable = new(Find);

    public static string? Path => Executable.Value;

    /// <summary>Runs a script (python3 -c) with the given stdin and returns its stdout; throws with stderr when it fails.</summary>
    public static string Run(string script, string input)
    {
        string executable = Path ?? throw new InvalidOperationException("No python3 with numpy was found.");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{executable} exited with {process.ExitCode}: {error.Result}");
        }

        return output;
    }

    private static string? Find()
    {
        // /usr/bin first: a pyenv shim earlier on PATH may lack the Debian numpy.
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var start = new ProcessStartInfo(candidate, ["-c", "import numpy"])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(start);
                if (process is not null && process.WaitForExit(30_000) && process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name; try the next.
            }
        }

        return null;
    }
}

/// <summary>A fact that runs only where python3 with numpy is installed, and is reported as skipped elsewhere.</summary>
public sealed class NumpyFactAttribute : FactAttribute
{
    public NumpyFactAttribute()
    {
        if (NumpyPython.Path is null)
        {
            Skip = "needs python3 with numpy (apt-get install python3-numpy); the vector tests cover the algorithm without it";
        }
    }
}
