namespace DistSac.Worker.Tests;

public class SimulatedStepCostProbeTests
{
    [Fact]
    public void Thread_cpu_time_grows_by_the_work_the_thread_did()
    {
        long? before = SimulatedStepCostProbe.ThreadCpuNanoseconds();
        // A fixed amount of work (tens of ms of CPU), so the growth does not depend on how loaded the machine is.
        double sum = 0;
        for (int i = 1; i < 30_000_000; i++) sum += 1.0 / i;
        long? after = SimulatedStepCostProbe.ThreadCpuNanoseconds();

        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.True(sum > 0);
        Assert.True(after - before > 1_000_000, $"30M divisions took {after - before} ns of thread CPU; expected over 1 ms");
    }

    [Fact]
    public void A_sleeping_simulator_costs_a_fraction_of_its_step_time_per_step()
    {
        // 2 ms per step, slept in 10 ms quanta: a handful of wake-ups in 300 ms, each tens of microseconds of CPU.
        var probe = SimulatedStepCostProbe.Start(2_000, environments: 1, SimulatedCostMode.Sleep);
        Thread.Sleep(300);
        double? perStep = probe.Stop();

        Assert.NotNull(perStep);
        Assert.True(perStep > 0 && perStep < 1_000, $"the sleeping simulator cost {perStep} us of CPU per 2,000 us step");
    }

    [Fact]
    public void A_free_step_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SimulatedStepCostProbe.Start(0, 1, SimulatedCostMode.Sleep));
    }
}
