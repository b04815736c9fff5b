using System.Diagnostics;

namespace DistSac.Worker.Tests;

public class SimulatedStepCostTests
{
    [Theory]
    [InlineData(SimulatedCostMode.Sleep)]
    [InlineData(SimulatedCostMode.Spin)]
    public void Each_vector_step_costs_the_configured_time_per_environment(SimulatedCostMode mode)
    {
        // 2 envs x 1,500 us = 3 ms per vector step; 100 steps = 300 ms. Sleep pacing must not run faster than that,
        // up to the last quantum it has not slept off yet.
        var cost = new SimulatedStepCost(1_500, environments: 2, mode);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++) cost.Pay();
        var elapsed = clock.Elapsed;

        var owed = TimeSpan.FromMilliseconds(300) - (mode == SimulatedCostMode.Sleep ? SimulatedStepCost.SleepQuantum : TimeSpan.Zero);
        Assert.True(elapsed >= owed - TimeSpan.FromMilliseconds(1), $"{mode}: 100 steps took {elapsed.TotalMilliseconds:F1} ms, less than their cost");
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
