using System.Diagnostics;

namespace DistSac.Worker.Tests;

public class SimulatedStepCostTests
{
    [Theory]
    [InlineData(SimulatedCostMode.Sleep)]
    [InlineData(SimulatedCostMode.Spin)]
    public void Each_vector_step_costs_the_configured_time_per_environment(SimulatedCostMode mode)
    {
        // 2 envs x 1,500 us = 3 ms per vector step; 100 steps = 300 ms. Sleep pacing must not drift below the rate
        // although each sleep has millisecond granularity.
        var cost = new SimulatedStepCost(1_500, environments: 2, mode);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++) cost.Pay();
        var elapsed = clock.Elapsed;

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(299), $"{mode}: 100 steps took {elapsed.TotalMilliseconds:F1} ms, less than their 300 ms cost");
        Assert.True(elapsed < TimeSpan.FromSeconds(3), $"{mode}: 100 steps took {elapsed.TotalMilliseconds:F1} ms");
    }

    [Fact]
    public void Zero_cost_is_free_and_bad_arguments_are_refused()
    {
        Assert.True(new SimulatedStepCost(0, 4, SimulatedCostMode.Sleep).IsFree);
        Assert.False(new SimulatedStepCost(1, 1, SimulatedCostMode.Spin).IsFree);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedStepCost(-1, 1, SimulatedCostMode.Spin));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedStepCost(10, 0, SimulatedCostMode.Spin));
    }
}
