using System.Reflection;
using DistSac.Bench;
using DistSac.Local;

namespace DistSac.Integration.Tests;

/// <summary>
/// `distsac local`'s orchestration (DistSac.Local) and the bench harnesses (DistSac.Bench) run the learner only as a
/// child process: neither may load TorchSharp, directly or through another assembly.
/// </summary>
public sealed class HarnessDependencyTests
{
    [Theory]
    [InlineData(typeof(LocalCluster), "DistSac.Processes")]
    [InlineData(typeof(ScaleBenchmark), "DistSac.Local")]
    public void Assembly_ReferencesNoTorchSharpTransitively(Type type, string expectedReference)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { type.Assembly.GetName().Name! };
        var pending = new Stack<Assembly>();
        pending.Push(type.Assembly);
        while (pending.Count > 0)
        {
            foreach (AssemblyName reference in pending.Pop().GetReferencedAssemblies())
            {
                Assert.DoesNotContain("TorchSharp", reference.Name!, StringComparison.OrdinalIgnoreCase);
                Assert.NotEqual("DistSac.Learning", reference.Name);
                if (seen.Add(reference.Name!)) pending.Push(Assembly.Load(reference));
            }
        }
        // The walk really followed the references.
        Assert.Contains(expectedReference, seen);
    }
}
