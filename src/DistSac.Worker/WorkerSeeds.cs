namespace DistSac.Worker;

/// <summary>
/// Seeds of one worker, derived from the run seed and the worker id so that workers of one run explore different
/// trajectories yet each replays exactly. string.GetHashCode is randomised per process, so the id is hashed with
/// FNV-1a (stable), then mixed so that ids differing in one character give unrelated seeds.
/// </summary>
public readonly record struct WorkerSeeds(long Environments, long ExplorationNoise, long RandomActions)
{
    public static WorkerSeeds For(long runSeed, string workerId)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        ulong hash = 14695981039346656037UL;
        foreach (char c in workerId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        // VectorEnvironment seeds env i with seed + i, so worker seeds must be far apart, not consecutive.
        ulong worker = Mix(hash);
        long environments = unchecked(runSeed + (long)worker);
        return new WorkerSeeds(
            environments,
            unchecked((long)Mix((ulong)environments ^ 0x6E6F697365UL)),  // "noise"
            unchecked((long)Mix((ulong)environments ^ 0x72616E64UL)));   // "rand"
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
