namespace DistSac.Envs.Tests;

public class EnvironmentRegistryTests
{
    [Fact]
    public void Ids_ListPendulumThenMountainCar()
    {
        Assert.Equal(["Pendulum-v1", "MountainCarContinuous-v0"], EnvironmentRegistry.Ids);
    }

    [Theory]
    [InlineData("Pendulum-v1", typeof(PendulumEnvironment))]
    [InlineData("MountainCarContinuous-v0", typeof(MountainCarContinuousEnvironment))]
    public void Make_ReturnsTheEnvironmentWithItsSpec(string id, Type type)
    {
        IEnvironment env = EnvironmentRegistry.Make(id);

        Assert.IsType(type, env);
        Assert.Equal(id, env.Spec.Id);
        Assert.Same(EnvironmentRegistry.GetSpec(id), env.Spec);
    }

    [Fact]
    public void Make_ReturnsAFreshInstanceEachTime()
    {
        Assert.NotSame(EnvironmentRegistry.Make("Pendulum-v1"), EnvironmentRegistry.Make("Pendulum-v1"));
    }

    [Fact]
    public void GetSpec_Pendulum_HasGymnasiumSpacesAndTimeLimit()
    {
        EnvSpec spec = EnvironmentRegistry.GetSpec("Pendulum-v1");

        Assert.Equal(3, spec.ObservationSize);
        Assert.Equal(1, spec.ActionSize);
        Assert.Equal([-1f, -1f, -8f], spec.ObservationLow);
        Assert.Equal([1f, 1f, 8f], spec.ObservationHigh);
        Assert.Equal([-2f], spec.ActionLow);
        Assert.Equal([2f], spec.ActionHigh);
        Assert.Equal(200, spec.MaxEpisodeSteps);
    }

    [Fact]
    public void GetSpec_MountainCar_HasGymnasiumSpacesAndTimeLimit()
    {
        EnvSpec spec = EnvironmentRegistry.GetSpec("MountainCarContinuous-v0");

        Assert.Equal(2, spec.ObservationSize);
        Assert.Equal(1, spec.ActionSize);
        Assert.Equal([-1.2f, -0.07f], spec.ObservationLow);
        Assert.Equal([0.6f, 0.07f], spec.ObservationHigh);
        Assert.Equal([-1f], spec.ActionLow);
        Assert.Equal([1f], spec.ActionHigh);
        Assert.Equal(999, spec.MaxEpisodeSteps);
    }

    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("pendulum-v1")]
    [InlineData("")]
    public void Make_WithAnUnknownId_ThrowsListingTheRegisteredIds(string id)
    {
        var error = Assert.Throws<UnknownEnvironmentException>(() => EnvironmentRegistry.Make(id));

        Assert.Equal(
            $"Unknown environment '{id}'. Registered environments: Pendulum-v1, MountainCarContinuous-v0.",
            error.Message);
        Assert.Equal(id, error.Id);
        Assert.Equal("id", error.ParamName);
    }

    [Fact]
    public void GetSpec_WithAnUnknownId_ThrowsAnArgumentException()
    {
        Assert.ThrowsAny<ArgumentException>(() => EnvironmentRegistry.GetSpec("Humanoid-v4"));
    }
}
