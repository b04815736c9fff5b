using DistSac.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

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
/// and the actor half independent, so on a CPU they run as two concurrent single-threaded streams.
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
    private readonly CriticStream? _criticStream;
    private readonly TwinCritic? _criticSnapshot;
    private readonly ManualResetEventSlim _nextActionsReady = new(false);
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

        if (concurrentStreams && device.type == DeviceType.CPU)
        {
            _criticStream = new CriticStream();
            _criticSnapshot = new TwinCritic(observationSize, actionSize, options.HiddenSizes, device, requiresGrad: false);
        }
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
            if (!torch.isfinite(values).all().item<bool>()) return false;
        }
        return true;
    }
    public double TargetEntropy { get; }
    public bool UsesConcurrentStreams => _criticStream is not null;
    internal FlatAdam ActorOptimizer => _actorOptimizer;
    internal FlatAdam CriticOptimizer => _criticOptimizer;
    internal FlatAdam? AlphaOptimizer => _alphaOptimizer;

    /// <summary>
    /// Bootstrap target y = r + gamma (1 - terminated) (min(Q1', Q2')(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
    /// Only termination stops bootstrapping; a time-limit truncation is stored as not terminated.
    /// </summary>
    public Tensor CriticTargetValues(Tensor rewards, Tensor nextObservations, Tensor terminated, Tensor alpha, Tensor nextActions, Tensor nextLogProb)
    {
        using (no_grad())
        {
            var nextQ = CriticTarget.MinQ(nextObservations, nextActions);
            var softValue = nextQ.sub_(nextLogProb.mul(alpha));
            var notDone = torch.ones_like(terminated).sub_(terminated);
            return torch.addcmul(rewards, notDone, softValue, _gamma);
        }
    }

    /// <summary>One gradient step on critics, actor and temperature from a batch of B transitions ([B, dim] each).</summary>
    public void Update(Tensor observations, Tensor actions, Tensor rewards, Tensor nextObservations, Tensor terminated)
    {
        using var scope = NewDisposeScope();
        var alpha = LogAlpha.detach().exp();
        Tensor nextActions = null!, nextLogProb = null!;
        _nextActionsReady.Reset();

        Tensor criticLoss = null!, meanQ = null!;
        bool criticStepped = false;
        void CriticHalf()
        {
            using var criticScope = NewDisposeScope();
            // J_Q = E[(Q1(s,a) - y)^2 + (Q2(s,a) - y)^2] (the paper's factor 1/2 folded into the learning rate, as SB3).
            var (q1, q2) = Critic.ForwardPair(observations, actions);
            // a' ~ pi(.|s') is drawn by the actor half meanwhile (it owns the actor and its noise generator).
            _nextActionsReady.Wait();
            var target = CriticTargetValues(rewards, nextObservations, terminated, alpha, nextActions, nextLogProb);
            var loss = F.mse_loss(q1, target).add(F.mse_loss(q2, target), TorchScalars.One);
            _criticOptimizer.ZeroGrad();
            loss.backward();
            criticStepped = _criticOptimizer.Step();
            if (criticStepped && (UpdateCount + 1) % _options.TargetUpdateInterval == 0)
                CriticTarget.Parameters.PolyakUpdateFrom(Critic.Parameters, _tau);
            criticLoss = loss.detach().MoveToOuterDisposeScope();
            meanQ = q1.detach().mean().MoveToOuterDisposeScope();
        }

        // The actor half reads the critics as they were before this update's critic step: the live weights when the
        // halves run one after the other (actor half first), a snapshot when they run concurrently.
        TwinCritic criticForActor;
        if (_criticStream is not null)
        {
            _criticSnapshot!.Parameters.CopyFrom(Critic.Parameters);
            criticForActor = _criticSnapshot;
            _criticStream.Start(CriticHalf);
        }
        else
        {
            criticForActor = Critic;
        }
        Tensor actorLoss, alphaLoss, logProb;
        bool actorStepped;
        try
        {
            using (no_grad()) (nextActions, nextLogProb) = Actor.Sample(nextObservations, _generator);
            _nextActionsReady.Set();
            (actorLoss, alphaLoss, logProb, actorStepped) = ActorHalf(observations, alpha, criticForActor);
        }
        finally
        {
            // Never leave the critic thread waiting for a' (it then fails on the missing tensors and Wait rethrows).
            _nextActionsReady.Set();
            if (_criticStream is not null) _criticStream.Wait();
        }
        if (_criticStream is null) CriticHalf();
        UpdateCount++;
        LastUpdateApplied = criticStepped && actorStepped;
        if (!LastUpdateApplied) SkippedUpdates++;

        // Keep the scalars on the device; reading them costs a host sync, so it happens only in ReadStats.
        var stats = torch.stack([criticLoss, actorLoss.detach(), alphaLoss.detach(), alpha.reshape([]), meanQ, logProb.detach().mean().neg()]);
        _lastStats?.Dispose();
        _lastStats = stats.MoveToOuterDisposeScope();
        // Made on the critic thread, they belong to no scope of this thread.
        criticLoss.Dispose();
        meanQ.Dispose();
    }

    private (Tensor ActorLoss, Tensor AlphaLoss, Tensor LogProb, bool Stepped) ActorHalf(Tensor observations, Tensor alpha, TwinCritic criticForActor)
    {
        // J_pi = E[alpha log pi(a|s) - min(Q1, Q2)(s, a)], a ~ pi(.|s); the critics are fixed functions here.
        var (newActions, logProb) = Actor.Sample(observations, _generator);
        var qPi = criticForActor.MinQ(observations, newActions, detachWeights: true);
        var actorLoss = (logProb * alpha - qPi).mean();
        _actorOptimizer.ZeroGrad();
        actorLoss.backward();
        bool stepped = _actorOptimizer.Step();

        // J(alpha) = E[-log_alpha (log pi + target_entropy)], log pi treated as a constant.
        var alphaLoss = -(LogAlpha * logProb.detach().add(_targetEntropy, TorchScalars.One)).mean();
        if (_alphaOptimizer is not null)
        {
            _alphaOptimizer.ZeroGrad();
            alphaLoss.backward();
            stepped &= _alphaOptimizer.Step();
        }

        return (actorLoss, alphaLoss, logProb, stepped);
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
        _criticStream?.Dispose();
        _criticSnapshot?.Dispose();
        _nextActionsReady.Dispose();
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
