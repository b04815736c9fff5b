namespace DistSac.Envs;

/// <summary>Span length checks for the public boundary; the throw lives out of line to keep callers small.</summary>
internal static class ArgumentLength
{
    public static void Require(int actual, int expected, string paramName)
    {
        if (actual != expected)
        {
            Throw(actual, expected, paramName);
        }
    }

    private static void Throw(int actual, int expected, string paramName) =>
        throw new ArgumentException($"Expected a span of length {expected}, got {actual}.", paramName);
}
