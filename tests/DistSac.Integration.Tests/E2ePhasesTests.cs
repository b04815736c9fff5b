using DistSac.Bench;

namespace DistSac.Integration.Tests;

/// <summary>`bench e2e` splits its wall clock at lines of the child's output; these are the lines it must recognise.</summary>
public sealed class E2ePhasesTests
{
    [Fact]
    public void Observe_TimesReadyTargetFinalEvaluationAndStop_FromTheirLines()
    {
        var phases = new E2ePhases(-200);
        phases.Observe("[gateway] 02:45:00 info: Replay gateway for run x bound to ...", 1.0);
        phases.Observe("[learner] 02:45:01 info: learner[0] Learner ready: run x, env Pendulum-v1, 1 shard(s), device cpu, 2 thread(s)", 2.5);
        phases.Observe("[learner] updates    1000 | env steps    2000 | 80 upd/s | 160 steps/s | workers 2 | fill 2000 | stale 3/9 | eval -1200.5 | alpha 0.500", 10.0);
        phases.Observe("[learner] updates    2000 | env steps    3000 | 80 upd/s | 160 steps/s | workers 2 | fill 3000 | stale 3/9 | eval - | alpha 0.400", 12.0);
        phases.Observe("[worker-0] updates    3000 | eval -100.0 |", 13.0); // not the learner: ignored
        phases.Observe("[learner] updates    3000 | env steps    4000 | 80 upd/s | 160 steps/s | workers 2 | fill 4000 | stale 3/9 | eval -180.2 | alpha 0.300", 20.0);
        phases.Observe("[learner] updates    3100 | env steps    4100 | 80 upd/s | 160 steps/s | workers 2 | fill 4100 | stale 3/9 | eval -150.0 | alpha 0.300", 21.0);
        phases.Observe("[learner] final deterministic evaluation over 10 episodes: mean -160.0 std 80.0", 22.0);
        phases.Observe("[local] final deterministic evaluation over 10 episodes: mean -160.0 std 80.0", 23.5);
        phases.Observe("[local] run directory: runs/x", 23.6);

        Assert.Equal(2.5, phases.LearnerReady);
        Assert.Equal(20.0, phases.TargetReached);
        Assert.Equal(22.0, phases.FinalEvaluation);
        Assert.Equal(23.6, phases.ChildrenStopped);
    }

    [Fact]
    public void Observe_LeavesTheTargetUnset_WhenNoEvaluationReachesIt()
    {
        var phases = new E2ePhases(-200);
        phases.Observe("[learner] updates    1000 | env steps    2000 | 80 upd/s | 160 steps/s | workers 2 | fill 2000 | stale 3/9 | eval -200.1 | alpha 0.500", 10.0);

        Assert.Null(phases.TargetReached);
    }

    [Theory]
    [InlineData("updates 1 | eval -199.9 | alpha 0.1", -199.9)]
    [InlineData("updates 1 | eval 12.0", 12.0)]
    public void EvalReturn_ReadsTheNumberAfterEval(string line, double expected) =>
        Assert.Equal(expected, E2ePhases.EvalReturn(line));

    [Theory]
    [InlineData("updates 1 | eval - | alpha 0.1")]
    [InlineData("Learner ready")]
    public void EvalReturn_IsNull_WithoutANumber(string line) => Assert.Null(E2ePhases.EvalReturn(line));
}
