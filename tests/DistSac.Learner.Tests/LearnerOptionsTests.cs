using System.ComponentModel.DataAnnotations;

namespace DistSac.Learner.Tests;

public class LearnerOptionsTests
{
    [Theory]
    [InlineData("mirror")]
    [InlineData("redis")]
    public void Sampling_accepts_mirror_and_redis(string sampling) => new LearnerOptions { Sampling = sampling }.Validate();

    [Fact]
    public void An_unknown_sampling_mode_names_the_setting_and_the_choices()
    {
        var error = Assert.Throws<ValidationException>(() => new LearnerOptions { Sampling = "Mirror " }.Validate());
        Assert.Contains("Learner:Sampling = 'Mirror ' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("mirror", error.Message, StringComparison.Ordinal);
        Assert.Contains("redis", error.Message, StringComparison.Ordinal);
    }
}
