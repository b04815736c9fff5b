using System.Net;
using DistSac.Deploy.Tests;

namespace DistSac.Cluster.Tests;

/// <summary>One pod's network: its namespace, its address on the lab bridge, its /etc/netns hosts file.</summary>
public sealed record PodNetwork(string PodName, string Namespace, IPAddress Address, string HostVeth)
{
    public string HostsFile => $"/etc/netns/{Namespace}/hosts";
}

/// <summary>
/// A small "cluster network" on one machine: a Linux bridge with the host on .1 and one network namespace per pod
/// (veth pair, its own /24 address, loopback up). Names resolve through each namespace's own /etc/netns/NAME/hosts,
/// which `ip netns exec` bind-mounts over /etc/hosts; the file is rewritten in place (same inode) so a running process
/// sees endpoint changes on its next lookup, as it would see a DNS answer change. Everything is removed on Dispose.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private readonly List<PodNetwork> _pods = [];
    private readonly Lock _gate = new();
    private int _nextHost = 10;
    private bool _disposed;

    private NetworkLab(string id, int subnet)
    {
        Id = id;
        Bridge = $"dsc{id}br";
        Prefix = $"10.213.{subnet}.";
        HostAddress = IPAddress.Parse(Prefix + "1");
    }

    public string Id { get; }
    public string Bridge { get; }
    public string Prefix { get; }
    public IPAddress HostAddress { get; }

    /// <summary>Why this machine cannot host the lab, or null when it can (root, `ip`, network namespaces).</summary>
    public static string? Unsupported()
    {
        if (Environment.UserName != "root" && Tool.Run("id", ["-u"]).Stdout.Trim() != "0")
            return "the cluster-shaped run needs root (network namespaces, setpriv); run `sudo make test-cluster`";
        foreach (var tool in new[] { "ip", "setpriv", "unshare", "redis-server", "redis-cli" })
        {
            if (Tool.Run("sh", ["-c", $"command -v {tool}"]).ExitCode != 0) return $"'{tool}' is not installed";
        }
        return null;
    }

    public static NetworkLab Create()
    {
        var id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..4];
        var lab = new NetworkLab(id, Random.Shared.Next(1, 250));
        try
        {
            Ip("link", "add", lab.Bridge, "type", "bridge");
            Ip("addr", "add", lab.HostAddress + "/24", "dev", lab.Bridge);
            Ip("link", "set", lab.Bridge, "up");
        }
        catch
        {
            lab.Dispose();
            throw;
        }
        return lab;
    }

    /// <summary>Creates the pod's namespace, wires it to the bridge and gives it the next free address.</summary>
    public PodNetwork AddPod(string podName)
    {
        int host;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            host = _nextHost++;
        }
        if (host > 250) throw new InvalidOperationException("the lab's /24 is full");
        var ns = $"dsc{Id}-{podName}";
        var hostVeth = $"dsc{Id}v{host}";
        var pod = new PodNetwork(podName, ns, IPAddress.Parse(Prefix + host), hostVeth);
        lock (_gate) _pods.Add(pod);
        Directory.CreateDirectory($"/etc/netns/{ns}");
        File.WriteAllText(pod.HostsFile, "127.0.0.1 localhost\n");
        // No DNS server in the lab: a name missing from hosts fails at once instead of waiting on a resolver.
        File.WriteAllText($"/etc/netns/{ns}/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
        Ip("netns", "add", ns);
        Ip("link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip("link", "set", hostVeth, "master", Bridge, "up");
        Ip("-n", ns, "addr", "add", pod.Address + "/24", "dev", "eth0");
        Ip("-n", ns, "link", "set", "eth0", "up");
        Ip("-n", ns, "link", "set", "lo", "up");
        return pod;
    }

    /// <summary>Deletes a dead pod's namespace, veth and /etc/netns files, so a pod of the same name can be created.</summary>
    public void RemovePod(PodNetwork pod)
    {
        lock (_gate)
        {
            if (!_pods.Remove(pod)) return;
        }
        Delete(pod);
    }

    /// <summary>Rewrites the pod's hosts file in place (the bind mount follows the inode, not the name).</summary>
    public static void WriteHosts(PodNetwork pod, string content)
    {
        using var stream = new FileStream(pod.HostsFile, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        var bytes = System.Text.Encoding.ASCII.GetBytes(content);
        stream.SetLength(0);
        stream.Write(bytes);
    }

    public void Dispose()
    {
        PodNetwork[] pods;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            pods = [.. _pods];
        }
        foreach (var pod in pods) Delete(pod);
        Tool.Run("ip", ["link", "del", Bridge]);
    }

    private static void Delete(PodNetwork pod)
    {
        Tool.Run("ip", ["netns", "del", pod.Namespace]);
        Tool.Run("ip", ["link", "del", pod.HostVeth]);
        try
        {
            Directory.Delete($"/etc/netns/{pod.Namespace}", recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Ip(params string[] args)
    {
        var (code, stdout, stderr) = Tool.Run("ip", args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
    }
}
