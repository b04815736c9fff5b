using System.Reflection;
using System.Xml.Linq;

namespace DistSac.Worker.Tests;

/// <summary>The worker must stay light: nothing in its project graph or its loaded assemblies may be TorchSharp.</summary>
public class WorkerDependencyTests
{
    [Fact]
    public void WorkerProjectGraph_HasNoTorchSharpReference()
    {
        string root = RepositoryRoot();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var offending = new List<string>();
        Visit(Path.Combine(root, "src", "DistSac.Worker", "DistSac.Worker.csproj"), visited, offending);
        // Files every project imports could smuggle a reference in too.
        foreach (string shared in new[] { "Directory.Build.props", "Directory.Build.targets" })
        {
            string path = Path.Combine(root, shared);
            if (File.Exists(path))
            {
                CollectTorchReferences(path, offending);
            }
        }

        Assert.Empty(offending);
        // The walk really followed the references: the worker, Envs, Observability, Policy, Protocol and Settings.
        Assert.Equal(
            new[] { "DistSac.Envs.csproj", "DistSac.Observability.csproj", "DistSac.Policy.csproj", "DistSac.Protocol.csproj", "DistSac.Settings.csproj", "DistSac.Worker.csproj" },
            visited.Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void WorkerAssembly_ReferencesNoTorchSharpTransitively()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<Assembly>();
        pending.Push(typeof(RolloutWorker).Assembly);
        seen.Add(typeof(RolloutWorker).Assembly.GetName().Name!);
        while (pending.Count > 0)
        {
            foreach (AssemblyName reference in pending.Pop().GetReferencedAssemblies())
            {
                Assert.DoesNotContain("TorchSharp", reference.Name!, StringComparison.OrdinalIgnoreCase);
                if (seen.Add(reference.Name!))
                {
                    pending.Push(Assembly.Load(reference));
                }
            }
        }

        Assert.Contains("DistSac.Policy", seen);
        Assert.Contains("Grpc.Net.Client", seen);
    }

    private static void Visit(string project, HashSet<string> visited, List<string> offending)
    {
        string full = Path.GetFullPath(project);
        if (!visited.Add(full))
        {
            return;
        }

        Assert.True(File.Exists(full), $"Referenced project {full} does not exist.");
        foreach (string include in CollectTorchReferences(full, offending))
        {
            Visit(Path.Combine(Path.GetDirectoryName(full)!, include.Replace('\\', Path.DirectorySeparatorChar)), visited, offending);
        }
    }

    /// <summary>Adds TorchSharp references of one MSBuild file to <paramref name="offending"/>; returns its ProjectReferences.</summary>
    private static List<string> CollectTorchReferences(string path, List<string> offending)
    {
        var projects = new List<string>();
        foreach (var element in XDocument.Load(path).Descendants())
        {
            string name = element.Name.LocalName;
            if (name is not ("PackageReference" or "ProjectReference" or "Reference" or "FrameworkReference"))
            {
                continue;
            }

            string include = (string?)element.Attribute("Include") ?? (string?)element.Attribute("Update") ?? string.Empty;
            if (include.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase) || include.Contains("libtorch", StringComparison.OrdinalIgnoreCase))
            {
                offending.Add($"{Path.GetFileName(path)}: {name} {include}");
            }

            if (name == "ProjectReference")
            {
                projects.Add(include);
            }
        }

        return projects;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DistSac.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No DistSac.sln above {AppContext.BaseDirectory}.");
    }
}
