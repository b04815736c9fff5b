using System.Collections.Concurrent;
using System.Diagnostics;
using k8s;
using k8s.Models;

namespace DistSac.Deploy.Tests;

/// <summary>
/// One overlay of deploy/k8s rendered by the real `kubectl kustomize` and parsed strictly into the KubernetesClient
/// typed model (an unknown or misspelled field fails the parse, as the API server would reject it).
/// </summary>
public sealed class RenderedOverlay
{
    public static readonly string[] All = ["cpu", "gpu", "spot", "persistent", "tls"];
    public static readonly TheoryData<string> Names = new(All);

    private static readonly ConcurrentDictionary<string, Lazy<RenderedOverlay>> Cache = new();

    private RenderedOverlay(string name, string yaml, IReadOnlyList<object> objects)
    {
        Name = name;
        Yaml = yaml;
        Objects = objects;
    }

    public string Name { get; }
    public string Yaml { get; }
    public IReadOnlyList<object> Objects { get; }

    public IEnumerable<T> OfKind<T>() => Objects.OfType<T>();

    /// <summary>Every pod template, named by its owner (kind/name), with the namespace it will run in.</summary>
    public IEnumerable<(string Owner, string? Namespace, V1PodTemplateSpec Template)> PodTemplates()
    {
        foreach (var d in OfKind<V1Deployment>()) yield return ($"Deployment/{d.Metadata.Name}", d.Metadata.NamespaceProperty, d.Spec.Template);
        foreach (var s in OfKind<V1StatefulSet>()) yield return ($"StatefulSet/{s.Metadata.Name}", s.Metadata.NamespaceProperty, s.Spec.Template);
        foreach (var s in OfKind<V1DaemonSet>()) yield return ($"DaemonSet/{s.Metadata.Name}", s.Metadata.NamespaceProperty, s.Spec.Template);
        foreach (var j in OfKind<V1Job>()) yield return ($"Job/{j.Metadata.Name}", j.Metadata.NamespaceProperty, j.Spec.Template);
    }

    /// <summary>Every container and init container, named owner/container.</summary>
    public IEnumerable<(string Owner, V1Container Container)> Containers() =>
        PodTemplates().SelectMany(t => (t.Template.Spec.InitContainers ?? []).Concat(t.Template.Spec.Containers)
            .Select(c => (t.Owner, c)));

    public static RenderedOverlay Load(string name) => Cache.GetOrAdd(name, n => new Lazy<RenderedOverlay>(() => Render(n))).Value;

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DistSac.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (DistSac.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>Parses multi-document YAML strictly; unknown kinds and unknown fields throw.</summary>
    public static IReadOnlyList<object> ParseStrict(string yaml) => KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true);

    private static RenderedOverlay Render(string name)
    {
        var path = Path.Combine(RepositoryRoot(), "deploy", "k8s", "overlays", name);
        var (code, stdout, stderr) = Tool.Run("kubectl", ["kustomize", path]);
        if (code != 0) throw new InvalidOperationException($"kubectl kustomize {path} exited {code}: {stderr}");
        return new RenderedOverlay(name, stdout, ParseStrict(stdout));
    }
}

/// <summary>Runs a command-line tool to completion and captures its output.</summary>
public static class Tool
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string fileName, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"'{fileName}' is required for the deployment tests and was not found on PATH: {e.Message}", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
        }
    }
}
