using k8s.Models;

namespace DistSac.Deploy.Tests;

/// <summary>Security contexts, resources, image tags and GPU placement on every container of every overlay.</summary>
public sealed class ManifestHardeningTests
{
    private const string Gpu = "nvidia.com/gpu";

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_container_runs_as_uid_1654_on_a_read_only_root_without_privileges(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        foreach (var (owner, container) in rendered.Containers())
        {
            var name = $"{owner}/{container.Name}";
            var sc = container.SecurityContext;
            Assert.True(sc is not null, $"{name} has no securityContext");
            Assert.True(sc.RunAsNonRoot == true, $"{name}: runAsNonRoot is not true");
            Assert.True(sc.RunAsUser == 1654, $"{name}: runAsUser is {sc.RunAsUser}, not 1654");
            Assert.True(sc.ReadOnlyRootFilesystem == true, $"{name}: readOnlyRootFilesystem is not true");
            Assert.True(sc.AllowPrivilegeEscalation == false, $"{name}: allowPrivilegeEscalation is not false");
            Assert.True(sc.Capabilities?.Drop?.Contains("ALL") == true, $"{name}: capabilities do not drop ALL");
            Assert.True(container.VolumeMounts?.Any(m => m.MountPath == "/tmp") == true, $"{name}: read-only root but no writable /tmp");
        }
        foreach (var (owner, _, template) in rendered.PodTemplates())
            Assert.True(template.Spec.SecurityContext?.RunAsNonRoot == true, $"{owner}: pod securityContext does not set runAsNonRoot");
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_container_requests_and_limits_cpu_and_memory(string overlay)
    {
        foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{owner}/{container.Name} has no {resource} request");
                Assert.True(container.Resources?.Limits?.ContainsKey(resource) == true, $"{owner}/{container.Name} has no {resource} limit");
            }
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_image_is_pinned_to_a_tag_other_than_latest(string overlay)
    {
        foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
        {
            var image = container.Image;
            if (image.Contains("@sha256:", StringComparison.Ordinal)) continue;
            var lastSegment = image[(image.LastIndexOf('/') + 1)..];
            var colon = lastSegment.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, $"{owner}/{container.Name} image '{image}' has no tag");
            Assert.True(lastSegment[(colon + 1)..] != "latest", $"{owner}/{container.Name} image '{image}' uses :latest");
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Only_the_learner_of_the_gpu_overlay_asks_for_a_gpu(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        foreach (var (owner, container) in rendered.Containers())
        {
            var asks = (container.Resources?.Limits?.ContainsKey(Gpu) ?? false) || (container.Resources?.Requests?.ContainsKey(Gpu) ?? false);
            var should = overlay == "gpu" && owner == "StatefulSet/distsac-learner";
            Assert.True(asks == should, $"{owner}/{container.Name} in overlay {overlay}: asks for a GPU = {asks}, expected {should}");
        }
        foreach (var (owner, _, template) in rendered.PodTemplates())
        {
            var tolerates = template.Spec.Tolerations?.Any(t => t.Key == Gpu) ?? false;
            Assert.True(tolerates == (overlay == "gpu" && owner == "StatefulSet/distsac-learner"), $"{owner} in overlay {overlay}: GPU toleration = {tolerates}");
        }
    }

    [Fact]
    public void The_gpu_learner_runs_the_cuda_image_with_one_gpu_and_device_cuda()
    {
        var learner = ManifestWiringTests.Container(RenderedOverlay.Load("gpu"), "StatefulSet/distsac-learner");

        Assert.StartsWith("distsac-learner-gpu:", learner.Image, StringComparison.Ordinal);
        Assert.Equal("1", learner.Resources.Limits[Gpu].ToString());
        Assert.Equal("cuda", Assert.Single(learner.Env, e => e.Name == "DISTSAC_LEARNER__DEVICE").Value);
        Assert.Contains(learner.Env, e => e.Name == "DISTSAC_REPLAY__PASSWORDFILE"); // the patch merged into, not replaced, env
    }

    [Fact]
    public void Workers_flush_within_their_grace_period_and_spot_workers_have_low_priority()
    {
        var cpu = RenderedOverlay.Load("cpu");
        var worker = Assert.Single(cpu.OfKind<V1Deployment>(), d => d.Metadata.Name == "distsac-worker").Spec.Template.Spec;
        var config = Assert.Single(cpu.OfKind<V1ConfigMap>()).Data;
        var flushSeconds = int.Parse(config["DISTSAC_WORKER__SHUTDOWNFLUSHTIMEOUTMS"], System.Globalization.CultureInfo.InvariantCulture) / 1000.0;
        Assert.True(worker.TerminationGracePeriodSeconds > flushSeconds, $"grace {worker.TerminationGracePeriodSeconds} s <= flush {flushSeconds} s");
        Assert.NotEmpty(worker.TopologySpreadConstraints);

        var spot = RenderedOverlay.Load("spot");
        var spotWorker = Assert.Single(spot.OfKind<V1Deployment>(), d => d.Metadata.Name == "distsac-worker").Spec.Template.Spec;
        var priority = Assert.Single(spot.OfKind<V1PriorityClass>());
        Assert.Equal(priority.Metadata.Name, spotWorker.PriorityClassName);
        Assert.True(priority.Value < 0);
        Assert.NotEmpty(spotWorker.Tolerations);
        Assert.All(spot.OfKind<V1StatefulSet>(), s => Assert.Null(s.Spec.Template.Spec.PriorityClassName));
    }

    [Fact]
    public void The_learner_keeps_its_runs_on_a_claim_and_is_not_evicted_by_the_autoscaler()
    {
        var learner = Assert.Single(RenderedOverlay.Load("cpu").OfKind<V1StatefulSet>(), s => s.Metadata.Name == "distsac-learner");

        Assert.Equal(1, learner.Spec.Replicas);
        Assert.Equal("false", learner.Spec.Template.Metadata.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]);
        var claim = Assert.Single(learner.Spec.VolumeClaimTemplates);
        Assert.Contains(learner.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.Name == claim.Metadata.Name && m.MountPath == "/data/runs");
    }

    [Fact]
    public void Redis_is_a_cache_by_default_and_the_persistence_component_puts_an_append_only_file_on_a_claim_per_shard()
    {
        static V1StatefulSet Redis(string overlay) => Assert.Single(RenderedOverlay.Load(overlay).OfKind<V1StatefulSet>(), s => s.Metadata.Name == "distsac-redis");
        static string Flag(V1StatefulSet redis, string flag)
        {
            var args = redis.Spec.Template.Spec.Containers[0].Args;
            return args[args.IndexOf(flag) + 1];
        }

        var cache = Redis("cpu");
        Assert.Equal("no", Flag(cache, "--appendonly"));
        Assert.Null(cache.Spec.VolumeClaimTemplates);
        Assert.Contains(cache.Spec.Template.Spec.Volumes, v => v.Name == "data" && v.EmptyDir is not null);

        var persistent = Redis("persistent");
        Assert.Equal("yes", Flag(persistent, "--appendonly"));
        Assert.Equal("/data", Flag(persistent, "--dir"));
        var claim = Assert.Single(persistent.Spec.VolumeClaimTemplates);
        Assert.Equal("data", claim.Metadata.Name);
        Assert.DoesNotContain(persistent.Spec.Template.Spec.Volumes, v => v.Name == "data");
        Assert.Contains(persistent.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.Name == "data" && m.MountPath == "/data");
        Assert.Equal(1654, persistent.Spec.Template.Spec.SecurityContext.FsGroup); // the non-root Redis can write its claim
        Assert.Equal(Flag(cache, "--maxmemory"), Flag(persistent, "--maxmemory"));
    }
}
