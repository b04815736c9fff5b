using System.Runtime.InteropServices;
using DistSac.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning;

/// <summary>Losses and temperature of the most recent update, read back from the device on request.</summary>
public readonly record struct SacUpdateStats(double CriticLoss, double ActorLoss, double AlphaLoss, double Alpha, double MeanQ, double Entropy);

/// <summary>
/// Soft Actor-Critic, v2 (Haarnoja et al. 2018, "SAC Algorithms and Applications"): twin critics with Polyak-averaged
/// targets, a squashed-Gaussian actor, and a learned temperature alpha = exp(log_alpha) with target entropy -dim(A).
/// There is no target actor: the bootstrap target uses the current policy at s'.
///
/// Each update computes all three gradient steps from the parameters at the start of the update (as the paper's
/// Algorithm 1 writes them, "simultaneous" rather than CleanRL's critic-then-actor order). That makes the critic half
/// and the actor half independent, so on a CPU they run as two concurrent single-threaded streams. The formulas are
/// in <see cref="SacLosses"/>; where and in which order the halves run is <see cref="SacUpdateSchedule"/>'s job.
/// </summary>
public sealed class SacLearner : IDisposable
{
    private readonly SacOptions _options;
    private readonly FlatAdam _actorOptimizer;
    private readonly FlatAdam _criticOptimizer;
    private readonly FlatAdam? _alphaOptimizer;
    private readonly ParameterBlock _logAlphaBlock;
    private readonly Generator _generator;
    private readonly Tensor _tau;
    // Long-lived Scalars (see TorchScalars for why never a temporary one on the update path).
    private readonly Scalar _gamma;
    private readonly Scalar _targetEntropy;
    private readonly SacUpdateSchedule _schedule;
    private Tensor? _lastStats;

    /// <param name="concurrentStreams">Run the critic half on its own thread (CPU with >= 2 cores; set torch threads to 1).</param>
    public SacLearner(int observationSize, int actionSize, float[] actionLow, float[] actionHigh, SacOptions options, Device device, long seed, bool concurrentStreams = false)
    {
        options.Validate();
        _options = options;
        Device = device;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        TargetEntropy = options.ResolveTargetEntropy(actionSize);
        torch.manual_seed(seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
        _generator = new Generator((ulong)seed, device);

        Actor = new SquashedGaussianActor(observationSize, actionSize, options.HiddenSizes, actionLow, actionHigh, device);
        Critic = new TwinCritic(observationSize, actionSize, options.HiddenSizes, device);
        CriticTarget = new TwinCritic(observationSize, actionSize, options.HiddenSizes, device, requiresGrad: false);
        CriticTarget.Parameters.CopyFrom(Critic.Parameters);

        _logAlphaBlock = new ParameterBlock();
        _logAlphaBlock.Add("log_alpha", 1);
        _logAlphaBlock.Build(device, requiresGrad: true);
        using (var scope = NewDisposeScope())
        using (var initialLogAlpha = Math.Log(options.InitialAlpha).ToScalar())
        using (no_grad()) _logAlphaBlock.Values.fill_(initialLogAlpha);

        _actorOptimizer = new FlatAdam(Actor.Parameters, options.ActorLearningRate);
        _criticOptimizer = new FlatAdam(Critic.Parameters, options.CriticLearningRate);
        _alphaOptimizer = options.LearnAlpha ? new FlatAdam(_logAlphaBlock, options.AlphaLearningRate) : null;
        _tau = torch.tensor((float)options.Tau, device: device);
        _gamma = options.Gamma.ToScalar();
        _targetEntropy = TargetEntropy.ToScalar();

        _schedule = new SacUpdateSchedule(concurrentStreams && device.type == DeviceType.CPU,
            () => new TwinCritic(observationSize, actionSize, options.HiddenSizes, device, requiresGrad: false));
    }

    public Device Device { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public SquashedGaussianActor Actor { get; }
    public TwinCritic Critic { get; }
    public TwinCritic CriticTarget { get; }
    public Tensor LogAlpha => _logAlphaBlock[0];
    internal Tensor LogAlphaValues => _logAlphaBlock.Values;
    public long UpdateCount { get; private set; }
    /// <summary>False when the last update found a NaN or infinite gradient and left some networks unchanged.</summary>
    public bool LastUpdateApplied { get; private set; } = true;
    /// <summary>Updates (since construction) in which a non-finite gradient skipped at least one optimizer step.</summary>
    public long SkippedUpdates { get; private set; }

    /// <summary>True when every network parameter, target and log alpha is finite (checked before publishing or checkpointing).</summary>
    public bool ParametersAreFinite()
    {
        using var scope = NewDisposeScope();
        foreach (var values in new[] { Actor.Parameters.Values, Critic.Parameters.Values, CriticTarget.Parameters.Values, _logAlphaBlock.Values })
        {
            // On the CPU a scan of the flat block in place (the learner checks before every publish); elsewhere libtorch's.
            bool finite = values.device_type == DeviceType.CPU
                ? FusedAdamKernel.AllFinite(MemoryMarshal.Cast<byte, float>(values.bytes))
                : torch.isfinite(values).all().item<bool>();
            if (!finite) return false;
        }
        return true;
    }
    public double TargetEntropy { get; }
    public bool UsesConcurrentStreams => _schedule.Concurrent;
    internal FlatAdam ActorOptimizer => _actorOptimizer;
    internal FlatAdam CriticOptimizer => _criticOptimizer;
    internal FlatAdam? AlphaOptimizer => _alphaOptimizer;

    /// <summary>
    /// Bootstrap target y = r + gamma (1 - terminated) (min(Q1', Q2')(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s'),
    /// from the target critics (<see cref="SacLosses.SoftTarget"/>).
    /// </summary>
    public Tensor CriticTargetValues(Tensor rewards, Tensor nextObservations, Tensor terminated, Tensor alpha, Tensor nextActions, Tensor nextLogProb)
    {
        using (no_grad())
            return SacLosses.SoftTarget(rewards, terminated, CriticTarget.MinQ(nextObservations, nextActions), nextLogProb, alpha, _gamma);
    }

    /// <summary>One gradient step on critics, actor and temperature from a batch of B transitions ([B, dim] each).</summary>
    public void Update(Tensor observations, Tensor actions, Tensor rewards, Tensor nextObservations, Tensor terminated)
    {
        using var scope = NewDisposeScope();
        var alpha = LogAlpha.detach().exp();
        CriticStep critic = default;
        ActorStep actor = default;
        _schedule.Run(Critic,
            drawNextActions: () => DrawNextActions(nextObservations),
            criticHalf: next => critic = CriticHalf(observations, actions, rewards, nextObservations, terminated, alpha, next),
            actorHalf: criticForActor => actor = ActorHalf(observations, alpha, criticForActor));

        UpdateCount++;
        LastUpdateApplied = critic.Stepped && actor.Stepped;
        if (!LastUpdateApplied) SkippedUpdates++;

        // Keep the scalars on the device; reading them costs a host sync, so it happens only in ReadStats.
        var stats = torch.stack([critic.Loss, actor.ActorLoss.detach(), actor.AlphaLoss.detach(), alpha.reshape([]), critic.MeanQ, actor.LogProb.detach().mean().neg()]);
        _lastStats?.Dispose();
        _lastStats = stats.MoveToOuterDisposeScope();
        // Made on the critic stream's thread when the halves run concurrently, they belong to no scope of this thread.
        critic.Loss.Dispose();
        critic.MeanQ.Dispose();
    }

    private readonly record struct CriticStep(Tensor Loss, Tensor MeanQ, bool Stepped);

    private readonly record struct ActorStep(Tensor ActorLoss, Tensor AlphaLoss, Tensor LogProb, bool Stepped);

    private NextActions DrawNextActions(Tensor nextObservations)
    {
        using (no_grad())
        {
            var (actions, logProb) = Actor.Sample(nextObservations, _generator);
            return new NextActions(actions, logProb);
        }
    }

    private CriticStep CriticHalf(Tensor observations, Tensor actions, Tensor rewards, Tensor nextObservations, Tensor terminated, Tensor alpha, Func<NextActions> nextActions)
    {
        using var scope = NewDisposeScope();
        var (q1, q2) = Critic.ForwardPair(observations, actions);
        var next = nextActions(); // drawn by the actor half meanwhile when the halves run concurrently
        var target = CriticTargetValues(rewards, nextObservations, terminated, alpha, next.Actions, next.LogProb);
        var loss = SacLosses.Critic(q1, q2, target);
        _criticOptimizer.ZeroGrad();
        loss.backward();
        bool stepped = _criticOptimizer.Step();
        if (stepped && (UpdateCount + 1) % _options.TargetUpdateInterval == 0)
            CriticTarget.Parameters.PolyakUpdateFrom(Critic.Parameters, _tau);
        return new CriticStep(loss.detach().MoveToOuterDisposeScope(), q1.detach().mean().MoveToOuterDisposeScope(), stepped);
    }

    private ActorStep ActorHalf(Tensor observations, Tensor alpha, TwinCritic critic)
    {
        var (newActions, logProb) = Actor.Sample(observations, _generator);
        var minQ = critic.MinQ(observations, newActions, detachWeights: true);
        var actorLoss = SacLosses.Actor(logProb, alpha, minQ);
        _actorOptimizer.ZeroGrad();
        actorLoss.backward();
        bool stepped = _actorOptimizer.Step();

        var alphaLoss = SacLosses.Temperature(LogAlpha, logProb, _targetEntropy);
        if (_alphaOptimizer is not null)
        {
            _alphaOptimizer.ZeroGrad();
            alphaLoss.backward();
            stepped &= _alphaOptimizer.Step();
        }
        return new ActorStep(actorLoss, alphaLoss, logProb, stepped);
    }

    internal void RestoreCounters(long updates, long actorSteps, long criticSteps, long alphaSteps)
    {
        UpdateCount = updates;
        _actorOptimizer.RestoreStepCount(actorSteps);
        _criticOptimizer.RestoreStepCount(criticSteps);
        _alphaOptimizer?.RestoreStepCount(alphaSteps);
    }

    public SacUpdateStats ReadStats()
    {
        if (_lastStats is null)
        {
            using var detached = LogAlpha.detach();
            using var alpha = detached.exp();
            using var a = alpha.cpu();
            return new SacUpdateStats(double.NaN, double.NaN, double.NaN, a.item<float>(), double.NaN, double.NaN);
        }
        using var host = _lastStats.cpu();
        var v = host.data<float>().ToArray();
        return new SacUpdateStats(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    public void Dispose()
    {
        _schedule.Dispose();
        _lastStats?.Dispose();
        _tau.Dispose();
        _gamma.Dispose();
        _targetEntropy.Dispose();
        _generator.Dispose();
        _actorOptimizer.Dispose();
        _criticOptimizer.Dispose();
        _alphaOptimizer?.Dispose();
        _logAlphaBlock.Dispose();
        Actor.Dispose();
        Critic.Dispose();
        CriticTarget.Dispose();
    }
}
