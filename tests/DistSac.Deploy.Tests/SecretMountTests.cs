using k8s.Models;

namespace DistSac.Deploy.Tests;

/// <summary>
/// Secrets reach every container (Redis included) as mounted files, never through its environment or argv, and no
/// secret value is written into any manifest.
/// </summary>
public sealed class SecretMountTests
{
    [Theory]
    [InlineData("Deployment/distsac-gateway", "DISTSAC_GATEWAY__TOKENFILE", "token")]
    [InlineData("Deployment/distsac-gateway", "DISTSAC_REPLAY__PASSWORDFILE", "password")]
    [InlineData("StatefulSet/distsac-learner", "DISTSAC_REPLAY__PASSWORDFILE", "password")]
    [InlineData("Deployment/distsac-worker", "DISTSAC_WORKER__TOKENFILE", "token")]
    [InlineData("StatefulSet/distsac-redis", "REDIS_PASSWORD_FILE", "password")]
    public void Each_role_reads_its_secret_from_a_file_of_a_mounted_secret_volume(string owner, string variable, string key)
    {
        foreach (var overlay in RenderedOverlay.All)
        {
            var rendered = RenderedOverlay.Load(overlay);
            var template = rendered.PodTemplates().Single(t => t.Owner == owner).Template;
            var container = ManifestWiringTests.Container(rendered, owner);
            var path = Assert.Single(container.Env, e => e.Name == variable).Value;

            var mount = Assert.Single(container.VolumeMounts, m => path.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
            var volume = Assert.Single(template.Spec.Volumes, v => v.Name == mount.Name);
            Assert.True(mount.ReadOnlyProperty);
            Assert.Equal("distsac-replay", volume.Secret?.SecretName);
            Assert.Contains(volume.Secret!.Items, i => i.Key == key && path == $"{mount.MountPath}/{i.Path}");
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void No_container_takes_a_secret_as_an_environment_variable(string overlay)
    {
        foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
        {
            // Environment variables are inherited by every child process and shown in /proc/<pid>/environ.
            Assert.DoesNotContain(container.Env ?? [], e => e.ValueFrom?.SecretKeyRef is not null);
            Assert.DoesNotContain(container.EnvFrom ?? [], e => e.SecretRef is not null);
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void No_command_line_carries_a_secret(string overlay)
    {
        foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
        {
            // argv is readable by every user of the node (`ps`): no password flag, no $(VAR) that could expand to one.
            var argv = (container.Command ?? []).Concat(container.Args ?? []).ToList();
            foreach (var flag in new[] { "--requirepass", "--masterauth", "-a", "--pass", "--redis-password", "--token" })
                Assert.False(argv.Contains(flag), $"{owner}/{container.Name} passes {flag} on its command line");
            Assert.DoesNotContain(argv, a => a.Contains("$(", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void No_secret_value_is_inlined_in_a_rendered_manifest(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        var example = Assert.IsType<V1Secret>(Assert.Single(RenderedOverlay.ParseStrict(File.ReadAllText(
            Path.Combine(RenderedOverlay.RepositoryRoot(), "deploy", "k8s", "base", "secret.example.yaml")))));

        Assert.Empty(rendered.OfKind<V1Secret>());
        foreach (var value in example.StringData.Values) Assert.DoesNotContain(value, rendered.Yaml, StringComparison.Ordinal);
        foreach (var (owner, container) in rendered.Containers())
        {
            foreach (var e in container.Env ?? [])
            {
                bool secretName = e.Name.EndsWith("PASSWORD", StringComparison.Ordinal) || e.Name.EndsWith("TOKEN", StringComparison.Ordinal);
                Assert.False(secretName && e.Value is not null, $"{owner}/{container.Name} sets {e.Name} to a literal value");
            }
        }
        foreach (var map in rendered.OfKind<V1ConfigMap>())
            Assert.DoesNotContain(map.Data.Keys, k => k.EndsWith("PASSWORD", StringComparison.Ordinal) || k.EndsWith("TOKEN", StringComparison.Ordinal));
    }
}
