using Microsoft.Extensions.Configuration;

namespace DistSac.Gateway.Tests;

public sealed class RetiredGatewaySettingsTests
{
    [Theory]
    [InlineData("RateLimit", "Learner:UpdatesPerTransition")]
    [InlineData("RateLimitTolerance", "Learner:RateLimitTolerance")]
    [InlineData("RateLimitMinTransitions", "Learner:WarmupTransitions")]
    public void A_rate_limit_key_given_to_the_gateway_is_refused_naming_the_learner_setting(string key, string learnerSetting)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"Gateway:{key}"] = "1" }).Build();

        var error = Assert.Throws<ArgumentException>(() => RetiredGatewaySettings.Refuse(configuration));

        Assert.Contains($"Gateway:{key} = 1 is no longer a gateway setting", error.Message);
        Assert.Contains(learnerSetting, error.Message);
    }

    [Fact]
    public void A_configuration_without_them_passes()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:MaxHoldMs"] = "5" }).Build();

        RetiredGatewaySettings.Refuse(configuration);
    }
}
