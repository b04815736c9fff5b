using System.Text.Json;
using DistSac.Deploy.Tests;

namespace DistSac.Cluster.Tests;

/// <summary>
/// What a container runtime takes from one target of deploy/docker/Dockerfile: ENTRYPOINT, ENV, USER, WORKDIR and where
/// the published files sit (the COPY destination). Read from the Dockerfile itself, so a change there changes this run.
/// Only the instructions the Dockerfile uses are understood; anything else in a runtime stage fails loudly.
/// </summary>
public sealed record ImageStage(string Target, IReadOnlyList<string> Entrypoint, IReadOnlyDictionary<string, string> Env,
    long Uid, long Gid, string AppDirectory, string WorkingDirectory)
{
    public static ImageStage Read(string dockerfilePath, string target)
    {
        var lines = JoinContinuations(File.ReadAllLines(dockerfilePath));
        bool inTarget = false;
        List<string>? entrypoint = null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        long uid = 0, gid = 0;
        string? appDir = null;
        string workDir = "/";
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var (instruction, rest) = Split(line);
            if (instruction == "FROM")
            {
                var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                inTarget = words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) && words[2] == target;
                continue;
            }
            if (!inTarget) continue;
            switch (instruction)
            {
                case "ENTRYPOINT":
                    entrypoint = JsonSerializer.Deserialize<List<string>>(rest)
                                 ?? throw new InvalidDataException($"{dockerfilePath}: ENTRYPOINT of '{target}' is not an exec-form JSON array.");
                    break;
                case "ENV":
                    foreach (var pair in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        int eq = pair.IndexOf('=');
                        if (eq <= 0) throw new InvalidDataException($"{dockerfilePath}: ENV '{pair}' is not KEY=VALUE.");
                        env[pair[..eq]] = pair[(eq + 1)..];
                    }
                    break;
                case "USER":
                    var ids = rest.Split(':');
                    uid = long.Parse(ids[0], System.Globalization.CultureInfo.InvariantCulture);
                    gid = ids.Length > 1 ? long.Parse(ids[1], System.Globalization.CultureInfo.InvariantCulture) : uid;
                    break;
                case "COPY":
                    appDir = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
                    break;
                case "WORKDIR":
                    workDir = rest;
                    break;
                case "EXPOSE" or "CMD":
                    break;
                default:
                    throw new InvalidDataException($"{dockerfilePath}: '{instruction}' in runtime stage '{target}' is not modelled by the cluster-shaped run.");
            }
        }
        if (entrypoint is null || appDir is null)
            throw new InvalidDataException($"{dockerfilePath}: no stage '{target}' with ENTRYPOINT and COPY.");
        return new ImageStage(target, entrypoint, env, uid, gid, appDir, workDir);
    }

    public static string DockerfilePath => Path.Combine(RenderedOverlay.RepositoryRoot(), "deploy", "docker", "Dockerfile");

    private static (string Instruction, string Arguments) Split(string line)
    {
        int space = line.IndexOf(' ');
        return space < 0 ? (line.ToUpperInvariant(), "") : (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
    }

    private static IEnumerable<string> JoinContinuations(IEnumerable<string> lines)
    {
        var current = new System.Text.StringBuilder();
        foreach (var line in lines)
        {
            if (line.TrimEnd().EndsWith('\\'))
            {
                current.Append(line.TrimEnd()[..^1]).Append(' ');
                continue;
            }
            current.Append(line);
            yield return current.ToString();
            current.Clear();
        }
        if (current.Length > 0) yield return current.ToString();
    }
}
