using TorchSharp;

namespace DistSac.Learning;

/// <summary>
/// Scalars that live as long as the process. TorchSharp passes a <see cref="Scalar"/>'s raw native handle to libtorch
/// without keeping the managed object alive, and the Scalar's finalizer frees that handle. A temporary Scalar (every
/// implicit double -> Scalar conversion, and the alpha = 1 that <c>add(Tensor)</c> creates) can therefore be freed by
/// a garbage collection on another thread while libtorch reads it: the learner's rare "Expected false to be true ...
/// toFloat at c10/core/Scalar.h" crash (docs/reliability.md). Code on the update path uses these, or Scalar fields of
/// its own, and never a literal; ScalarLifetimeTests forces collections on another thread to catch a regression.
/// </summary>
internal static class TorchScalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Two = 2.0.ToScalar();
    public static readonly Scalar MinusTwo = (-2.0).ToScalar();
    public static readonly Scalar MinusHalf = (-0.5).ToScalar();
}
