using System.Text.RegularExpressions;

namespace DistSac.Cluster.Tests;

/// <summary>
/// What the cluster-shaped runs know of deploy/k8s: the workload names of the base manifests, and the log line and
/// worker-id shape they read back (one copy for the lab-kubelet run and the podman kube play run).
/// </summary>
internal static partial class ClusterWorkloads
{
    public const string Redis = "StatefulSet/distsac-redis";
    public const string Gateway = "Deployment/distsac-gateway";
    public const string Learner = "StatefulSet/distsac-learner";
    public const string Worker = "Deployment/distsac-worker";

    /// <summary>A worker's last line: its env steps and acknowledged transitions.</summary>
    [GeneratedRegex(@"stopped: (\d+) env steps, (\d+) transitions acknowledged")]
    public static partial Regex WorkerStopped();

    /// <summary>Worker ids are "hostname-pid-random" and a pod's hostname is its name (group 1).</summary>
    [GeneratedRegex(@"^(.*)-\d+-[0-9a-f]{8}$")]
    public static partial Regex WorkerIdPod();
}
