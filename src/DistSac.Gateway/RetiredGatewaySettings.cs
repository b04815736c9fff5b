using Microsoft.Extensions.Configuration;

namespace DistSac.Gateway;

/// <summary>
/// Gateway settings that moved to the learner. Silently ignoring one would let an operator believe the gateway holds
/// pushes by it, so a configuration that still sets one is refused at start (exit 2), naming the learner setting to use.
/// </summary>
public static class RetiredGatewaySettings
{
    /// <summary>Old key (section "Gateway") -> what replaces it.</summary>
    public static readonly IReadOnlyDictionary<string, string> Replacements = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["RateLimit"] = "Learner:UpdatesPerTransition (learner flag --updates-per-transition, DISTSAC_LEARNER__UPDATESPERTRANSITION)",
        ["RateLimitTolerance"] = "Learner:RateLimitTolerance (learner flag --rate-limit-tolerance, DISTSAC_LEARNER__RATELIMITTOLERANCE)",
        ["RateLimitMinTransitions"] = "nothing: the threshold is the learner's, max(Learner:WarmupTransitions, Sac:BatchSize)",
    };

    /// <summary>Throws <see cref="ArgumentException"/> for the first retired key that <paramref name="configuration"/> sets.</summary>
    public static void Refuse(IConfiguration configuration)
    {
        foreach (var (key, replacement) in Replacements)
        {
            var value = configuration[$"{GatewayOptions.Section}:{key}"];
            if (value is null) continue;
            throw new ArgumentException(
                $"{GatewayOptions.Section}:{key} = {value} is no longer a gateway setting: the learner owns the rate-limit contract and writes it " +
                $"into the run metadata, which every gateway reads. Remove it (DISTSAC_GATEWAY__{key.ToUpperInvariant()}, --config, or the flag) " +
                $"and set {replacement} instead.");
        }
    }
}
