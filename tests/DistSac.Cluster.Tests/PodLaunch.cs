using System.Text;
using DistSac.Deploy.Tests;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>What the kubelet would start for one pod's (single) container, turned into a host process.</summary>
public sealed record PodLaunch(
    string PodName, string Owner, IReadOnlyDictionary<string, string> Labels, V1Container Container,
    IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Env, long Uid, long Gid,
    IReadOnlyDictionary<string, string> VolumeDirectories, bool ReadOnlyRootFilesystem, string WorkingDirectory);

/// <summary>
/// Turns a pod template of the rendered overlay into a <see cref="PodLaunch"/> the way Kubernetes builds a container:
/// image ENV, then envFrom ConfigMaps, then env (values, secretKeyRef, configMapKeyRef, with $(VAR) expansion), secret
/// volumes written as files (paths to them in env and args rewritten like every volume's), the
/// image ENTRYPOINT unless `command` is set, `args` with $(VAR) expansion, HOSTNAME = pod name, service-link variables
/// for ClusterIP Services, user and group from the security contexts. Volumes become per-pod host directories (owned
/// by the pod's user, like fsGroup), mounted at their mountPath when that path exists on the host (see
/// <see cref="Pod.Wrap"/>) and otherwise reached by rewriting any path under the mountPath in env or argv. Paths under
/// the image's app directory map to the published files.
/// </summary>
/// <param name="secrets">The test's Secrets: name -> key -> value (what `kubectl create secret` would hold).</param>
public sealed class PodTemplateResolver(RenderedOverlay overlay, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets, PublishedImages images)
{
    public PodLaunch Resolve(string owner, string podName, string podRoot, Func<string, string?> serviceAddress)
    {
        var (_, ns, template) = overlay.PodTemplates().Single(t => t.Owner == owner);
        var spec = template.Spec;
        if (spec.Containers.Count != 1 || spec.InitContainers is { Count: > 0 })
            throw new NotSupportedException($"{owner}: the cluster-shaped run models pods with exactly one container.");
        var container = spec.Containers[0];
        var image = images.For(container.Image);

        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOSTNAME"] = podName,
            ["HOME"] = podRoot,
        };
        if (image is { } img)
        {
            foreach (var (k, v) in img.Stage.Env) env[k] = v;
        }
        AddServiceLinks(env, ns, spec.EnableServiceLinks ?? true, serviceAddress);
        foreach (var from in container.EnvFrom ?? [])
        {
            var name = from.ConfigMapRef?.Name ?? throw new NotSupportedException($"{owner}: envFrom other than configMapRef.");
            foreach (var (k, v) in ConfigMap(name, ns).Data ?? new Dictionary<string, string>()) env[(from.Prefix ?? "") + k] = v;
        }
        foreach (var e in container.Env ?? [])
        {
            if (e.ValueFrom?.SecretKeyRef is { } secret)
                env[e.Name] = SecretValue(owner, secret.Name, secret.Key);
            else if (e.ValueFrom?.ConfigMapKeyRef is { } cm)
                env[e.Name] = (ConfigMap(cm.Name, ns).Data ?? new Dictionary<string, string>())[cm.Key];
            else if (e.ValueFrom is not null)
                throw new NotSupportedException($"{owner}: env '{e.Name}' uses a valueFrom the run does not model.");
            else
                env[e.Name] = Expand(e.Value ?? "", env);
        }

        var argv = new List<string>();
        if (container.Command is { Count: > 0 } command) argv.AddRange(command.Select(c => Expand(c, env)));
        else argv.AddRange(image?.Stage.Entrypoint ?? throw new InvalidOperationException($"{owner}: image '{container.Image}' has no ENTRYPOINT here and the container sets no command."));
        argv.AddRange((container.Args ?? []).Select(a => Expand(a, env)));

        long uid = container.SecurityContext?.RunAsUser ?? spec.SecurityContext?.RunAsUser ?? image?.Stage.Uid ?? 0;
        long gid = container.SecurityContext?.RunAsGroup ?? spec.SecurityContext?.RunAsGroup ?? image?.Stage.Gid ?? uid;

        var rewrites = new List<(string From, string To)>();
        var volumes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var dir = Path.Combine(podRoot, "volumes", mount.Name);
            Directory.CreateDirectory(dir);
            Tool.Run("chown", [$"{uid}:{gid}", dir]);
            if (spec.Volumes?.FirstOrDefault(v => v.Name == mount.Name)?.Secret is { } secretVolume) WriteSecretFiles(owner, secretVolume, dir, uid, gid);
            volumes[mount.MountPath] = dir;
            // Where the mountPath exists on the host (e.g. /tmp) the pod's mount namespace mounts the volume there;
            // elsewhere (e.g. /data/runs) a mount point cannot be made on the host, so paths to it are rewritten.
            if (!Directory.Exists(mount.MountPath)) rewrites.Add((mount.MountPath, dir));
        }
        if (image is { } im) rewrites.Add((im.Stage.AppDirectory, im.HostDirectory));
        // Longest prefix first: /data/runs before /data.
        rewrites.Sort((a, b) => b.From.Length.CompareTo(a.From.Length));
        for (int i = 0; i < argv.Count; i++) argv[i] = Rewrite(argv[i], rewrites);
        foreach (var k in env.Keys.ToList())
        {
            if (k is not ("PATH" or "HOME")) env[k] = Rewrite(env[k], rewrites);
        }

        var labels = template.Metadata.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
        bool readOnlyRoot = container.SecurityContext?.ReadOnlyRootFilesystem == true;
        // The container's working directory (workingDir, else the image's WORKDIR), never the test's own: a process
        // started from a directory under /tmp would lose it when the pod's /tmp emptyDir is mounted over it.
        var workDir = Rewrite(container.WorkingDir ?? image?.Stage.WorkingDirectory ?? "/", rewrites);
        if (!Directory.Exists(workDir)) workDir = "/";
        return new PodLaunch(podName, owner, labels, container, argv, env, uid, gid, volumes, readOnlyRoot, workDir);
    }

    /// <summary>
    /// A secret volume as the kubelet projects it: one file per item (or per key when no items are listed) holding the
    /// test's value, with the volume's defaultMode. Files are owned by the pod's user and group here (the kubelet uses
    /// root and fsGroup), which grants the same read access to the container's process.
    /// </summary>
    private void WriteSecretFiles(string owner, V1SecretVolumeSource volume, string dir, long uid, long gid)
    {
        if (!secrets.TryGetValue(volume.SecretName, out var data))
            throw new NotSupportedException($"{owner}: secret volume of '{volume.SecretName}', which the test did not create ({string.Join(", ", secrets.Keys)}).");
        var items = volume.Items?.Select(i => (i.Key, i.Path)).ToList() ?? data.Keys.Select(k => (k, k)).ToList();
        var mode = (UnixFileMode)(volume.DefaultMode ?? 0b110_100_100);
        foreach (var (key, path) in items)
        {
            var file = Path.Combine(dir, path);
            File.WriteAllText(file, SecretValue(owner, volume.SecretName, key));
            File.SetUnixFileMode(file, mode);
            Tool.Run("chown", [$"{uid}:{gid}", file]);
        }
    }

    private string SecretValue(string owner, string secret, string key) =>
        secrets.TryGetValue(secret, out var data) && data.TryGetValue(key, out var value)
            ? value
            : throw new InvalidOperationException($"{owner}: no test value for key '{key}' of Secret '{secret}'.");

    /// <summary>Kubernetes' $(VAR) expansion: defined variables are replaced, `$$` escapes, anything else stays as written.</summary>
    public static string Expand(string value, IReadOnlyDictionary<string, string> env)
    {
        var sb = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '$')
            {
                sb.Append('$');
                i++;
            }
            else if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '(' && value.IndexOf(')', i) is var close and > 0
                     && env.TryGetValue(value[(i + 2)..close], out var v))
            {
                sb.Append(v);
                i = close;
            }
            else
            {
                sb.Append(value[i]);
            }
        }
        return sb.ToString();
    }

    private static string Rewrite(string value, List<(string From, string To)> rewrites)
    {
        foreach (var (from, to) in rewrites)
        {
            if (value == from) return to;
            if (value.StartsWith(from + "/", StringComparison.Ordinal)) return to + value[from.Length..];
        }
        return value;
    }

    /// <summary>The kubelet's {SVC}_SERVICE_HOST / {SVC}_PORT_* variables, for Services with a cluster IP.</summary>
    private void AddServiceLinks(Dictionary<string, string> env, string? ns, bool enabled, Func<string, string?> serviceAddress)
    {
        if (!enabled) return;
        foreach (var svc in overlay.OfKind<V1Service>().Where(s => s.Metadata.NamespaceProperty == ns && s.Spec.ClusterIP != "None"))
        {
            var address = serviceAddress(svc.Metadata.Name);
            if (address is null) continue;
            var prefix = svc.Metadata.Name.ToUpperInvariant().Replace('-', '_');
            var first = svc.Spec.Ports[0];
            env[$"{prefix}_SERVICE_HOST"] = address;
            env[$"{prefix}_SERVICE_PORT"] = first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            env[$"{prefix}_PORT"] = $"tcp://{address}:{first.Port}";
            foreach (var p in svc.Spec.Ports)
            {
                if (p.Name is { } name) env[$"{prefix}_SERVICE_PORT_{name.ToUpperInvariant().Replace('-', '_')}"] = p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var key = $"{prefix}_PORT_{p.Port}_TCP";
                env[key] = $"tcp://{address}:{p.Port}";
                env[key + "_PROTO"] = "tcp";
                env[key + "_PORT"] = p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                env[key + "_ADDR"] = address;
            }
        }
    }

    private V1ConfigMap ConfigMap(string name, string? ns) =>
        overlay.OfKind<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name && c.Metadata.NamespaceProperty == ns)
        ?? throw new InvalidOperationException($"ConfigMap {ns}/{name} is referenced but not in the rendered overlay.");
}
