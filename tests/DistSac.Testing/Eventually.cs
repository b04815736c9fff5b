namespace DistSac.Testing;

/// <summary>Polls a condition: tests wait for observable effects rather than sleeping a guessed time.</summary>
public static class Eventually
{
    /// <summary>Checks <paramref name="condition"/> every <paramref name="pollMs"/> ms until it holds; a timeout names <paramref name="what"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, double seconds = 15, int pollMs = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {seconds} s waiting for: {what}");
            await Task.Delay(pollMs);
        }
    }

    /// <inheritdoc cref="TrueAsync(Func{bool}, string, double, int)"/>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, double seconds = 15, int pollMs = 50)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {seconds} s waiting for: {what}");
            await Task.Delay(pollMs);
        }
    }
}
