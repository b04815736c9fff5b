using System.Runtime.CompilerServices;
using TorchSharp;

// SacLearner.Update and SquashedGaussianActor.Sample can draw from libtorch's global generator, and several tests replay a
// draw; test classes running in parallel would also interleave their updates on the same few cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DistSac.Learning.Tests;

internal static class TestAssembly
{
    // The networks here are tiny: libtorch's intra-op pool only adds fork/join cost, and on a loaded 2-core machine
    // its spinning threads made a 300-update test take 20 s instead of 1 s.
#pragma warning disable CA2255 // a module initializer is the one place that runs before any test touches libtorch
    [ModuleInitializer]
    internal static void UseOneIntraOpThread() => torch.set_num_threads(1);
#pragma warning restore CA2255
}
