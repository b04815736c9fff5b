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
/// </summary>
public sealed class SacLearner : IDisposable
{
    private readonly SacOptions _options;
    private readonly double _targetEntropy;
    private readonly FlatAdam _actorOptimizer;
    private readonly FlatAdam _criticOptimizer;
    private readonly FlatAdam? _alphaOptimizer;
    private readonly ParameterBlock _logAlphaBlock;
    private readonly Generator? _generator;
    private static readonly long[] CriticAxis = [0];
    private readonly Tensor _tau;
    private Tensor? _lastStats;

    public SacLearner(int observationSize, int actionSize, float[] actionLow, float[] actionHigh, SacOptions options, Device device, long seed)
    {
        options.Validate();
        _options = options;
        Device = device;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _targetEntropy = options.ResolveTargetEntropy(actionSize);
        torch.manual_seed(seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);

        Actor = new SquashedGaussianActor(observationSize, actionSize, options.HiddenSizes, actionLow, actionHigh, device);
        Critic = new TwinCritic(observationSize, actionSize, options.HiddenSizes, device);
        CriticTarget = new TwinCritic(observationSize, actionSize, options.HiddenSizes, device, requiresGrad: false);
        CriticTarget.Parameters.CopyFrom(Critic.Parameters);

        _logAlphaBlock = new ParameterBlock();
        _logAlphaBlock.Add("log_alpha", 1);
        _logAlphaBlock.Build(device, requiresGrad: true);
        using (no_grad()) _logAlphaBlock.Values.fill_(Math.Log(options.InitialAlpha));

        _actorOptimizer = new FlatAdam(Actor.Parameters, options.ActorLearningRate);
        _criticOptimizer = new FlatAdam(Critic.Parameters, options.CriticLearningRate);
        _alphaOptimizer = options.LearnAlpha ? new FlatAdam(_logAlphaBlock, options.AlphaLearningRate) : null;
        _generator = null;
        _tau = torch.tensor((float)options.Tau, device: device);
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
    public double TargetEntropy => _targetEntropy;
    internal FlatAdam ActorOptimizer => _actorOptimizer;
    internal FlatAdam CriticOptimizer => _criticOptimizer;
    internal FlatAdam? AlphaOptimizer => _alphaOptimizer;

    /// <summary>
    /// Bootstrap target y = r + gamma (1 - terminated) (min(Q1', Q2')(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
    /// Only termination stops bootstrapping; a time-limit truncation is stored as not terminated.
    /// </summary>
    public Tensor CriticTargetValues(Tensor rewards, Tensor nextObservations, Tensor terminated, Tensor alpha)
    {
        using (no_grad())
        {
            var (nextActions, nextLogProb) = Actor.Sample(nextObservations, _generator);
            var nextQ = CriticTarget.Forward(nextObservations, nextActions).amin(CriticAxis);
            var softValue = nextQ.sub_(nextLogProb.mul_(alpha));
            var notDone = torch.ones_like(terminated).sub_(terminated);
            return torch.addcmul(rewards, notDone, softValue, _options.Gamma);
        }
    }

    /// <summary>One gradient step on critics, actor and temperature from a batch of B transitions ([B, dim] each).</summary>
    public void Update(Tensor observations, Tensor actions, Tensor rewards, Tensor nextObservations, Tensor terminated)
    {
        using var scope = NewDisposeScope();
        var alpha = LogAlpha.detach().exp();

        // Critic: J_Q = E[(Q1(s,a) - y)^2 + (Q2(s,a) - y)^2] (the factor 1/2 folded into the learning rate as in SB3).
        var target = CriticTargetValues(rewards, nextObservations, terminated, alpha);
        var q = Critic.Forward(observations, actions);
        var criticLoss = (q - target.unsqueeze(0)).square().mean(new long[] { 1, 2 }).sum();
        _criticOptimizer.ZeroGrad();
        criticLoss.backward();
        _criticOptimizer.Step();

        // Actor: J_pi = E[alpha log pi(a|s) - min(Q1, Q2)(s, a)], a ~ pi(.|s); critics are fixed functions here.
        var (newActions, logProb) = Actor.Sample(observations, _generator);
        var qPi = Critic.Forward(observations, newActions, detachWeights: true).amin(CriticAxis);
        var actorLoss = (logProb * alpha - qPi).mean();
        _actorOptimizer.ZeroGrad();
        actorLoss.backward();
        _actorOptimizer.Step();

        // Temperature: J(alpha) = E[-log_alpha (log pi + target_entropy)], with log pi treated as a constant.
        Tensor alphaLoss;
        var entropyGap = logProb.detach().add(_targetEntropy);
        alphaLoss = -(LogAlpha * entropyGap).mean();
        if (_alphaOptimizer is not null)
        {
            _alphaOptimizer.ZeroGrad();
            alphaLoss.backward();
            _alphaOptimizer.Step();
        }

        UpdateCount++;
        if (UpdateCount % _options.TargetUpdateInterval == 0)
            CriticTarget.Parameters.PolyakUpdateFrom(Critic.Parameters, _tau);

        // Keep the scalars on the device; reading them costs a host sync, so it happens only in ReadStats.
        var stats = torch.stack([criticLoss.detach(), actorLoss.detach(), alphaLoss.detach(), alpha.reshape(new long[0]), q.detach().mean(), logProb.detach().mean().neg()]);
        _lastStats?.Dispose();
        _lastStats = stats.MoveToOuterDisposeScope();
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
        if (_lastStats is null) return new SacUpdateStats(double.NaN, double.NaN, double.NaN, Math.Exp(LogAlpha.detach().cpu().item<float>()), double.NaN, double.NaN);
        using var host = _lastStats.cpu();
        var v = host.data<float>().ToArray();
        return new SacUpdateStats(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    public void Dispose()
    {
        _lastStats?.Dispose();
        _tau.Dispose();
        _actorOptimizer.Dispose();
        _criticOptimizer.Dispose();
        _alphaOptimizer?.Dispose();
        _logAlphaBlock.Dispose();
        Actor.Dispose();
        Critic.Dispose();
        CriticTarget.Dispose();
    }
}
