using System.Runtime.CompilerServices;

// Tests force each kernel path (scalar, Vector128, Vector256) so the fallbacks stay correct on AVX-512 build hosts.
[assembly: InternalsVisibleTo("DistSac.Policy.Tests")]
