using System.Diagnostics;
using DistSac.Envs;
using DistSac.Learning.Replay;
using DistSac.Policy;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

public sealed record TrainResult(string RunDirectory, long Steps, long Updates, double Seconds, EvaluationResult FinalEvaluation, double? FirstStepReachingThreshold)
{
    /// <summary>Why the final checkpoint could not be written (read-only or full disk), or null when it was.</summary>
    public string? CheckpointError { get; init; }
}

/// <summary>
/// SAC in one process: one environment, an in-memory replay, uniform-random actions for the first LearningStarts
/// steps, then UpdatesPerStep gradient steps per env step; periodic deterministic evaluation; metrics and a final
/// checkpoint in the run directory.
/// </summary>
public sealed class SingleProcessTrainer
{
    private readonly TrainOptions _train;
    private readonly SacOptions _sac;
    private readonly Action<TrainMetrics>? _onMetrics;

    public SingleProcessTrainer(TrainOptions train, SacOptions sac, Action<TrainMetrics>? onMetrics = null)
    {
        train.Validate();
        sac.Validate();
        _train = train;
        _sac = sac;
        _onMetrics = onMetrics;
    }

    public TrainResult Run(CancellationToken cancellationToken)
    {
        var spec = EnvironmentRegistry.GetSpec(_train.Env);
        var device = TorchRuntime.ResolveDevice(_train.Device);
        var (_, concurrentStreams) = TorchRuntime.ConfigureThreads(_train.Threads, device);
        var runId = _train.RunId ?? RunDirectory.NewRunId(_train.Env, _train.Seed);
        var run = RunDirectory.Create(_train.RunsRoot, runId);
        run.WriteConfig(new { Train = _train with { RunId = runId }, Sac = _sac, Device = device.ToString() });

        int o = spec.ObservationSize, a = spec.ActionSize;
        var layout = new TransitionLayout(o, a);
        var replay = new InMemoryReplayBuffer(layout, (int)Math.Min(_train.ReplayCapacity, Math.Max(_train.Steps, 1)));
        using var learner = new SacLearner(o, a, spec.ActionLow, spec.ActionHigh, _sac, device, _train.Seed, concurrentStreams);
        using var staging = new BatchStaging(layout, _sac.BatchSize, device);
        using var metrics = new MetricsWriter(run.MetricsPath);
        using var board = RunEventFile.Open(run);

        var env = EnvironmentRegistry.Make(_train.Env);
        var sampler = new Random(unchecked((int)_train.Seed) ^ 0x5eed);
        var explorer = new Random(unchecked((int)_train.Seed) ^ 0x7a11);
        // White noise keeps torch's randn inside Actor.Sample (the published path); ou feeds eps from a C# process.
        IExplorationNoise? correlated = _train.ExplorationNoise == ExplorationNoiseKind.White
            ? null
            : ExplorationNoiseKind.Create(_train.ExplorationNoise, _train.NoiseCorrelationSteps, _train.Seed ^ 0x6e6f697365L, 1, a);
        var epsilon = new float[a];
        var observation = new float[o];
        var nextObservation = new float[o];
        var action = new float[a];
        env.Reset(_train.Seed, observation);

        double episodeReturn = 0;
        double? lastEpisodeReturn = null;
        long episodes = 0;
        EvaluationResult? lastEval = null;
        double? firstStepReaching = null;
        var clock = Stopwatch.StartNew();
        double lastLogTime = 0; long lastLogStep = 0, lastLogUpdates = 0;

        long step = 0;
        for (; step < _train.Steps && !cancellationToken.IsCancellationRequested; step++)
        {
            if (step < _train.LearningStarts)
            {
                for (int i = 0; i < a; i++)
                    action[i] = spec.ActionLow[i] + explorer.NextSingle() * (spec.ActionHigh[i] - spec.ActionLow[i]);
            }
            else
            {
                if (correlated is null)
                {
                    SampleAction(learner, observation, action, device);
                }
                else
                {
                    correlated.Fill(epsilon);
                    SampleAction(learner, observation, epsilon, action, device);
                }
            }

            var result = env.Step(action, nextObservation);
            replay.Add(observation, action, result.Reward, nextObservation, result.Terminated);
            episodeReturn += result.Reward;
            if (result.Terminated || result.Truncated)
            {
                lastEpisodeReturn = episodeReturn;
                episodes++;
                episodeReturn = 0;
                env.Reset(null, observation);
                correlated?.Restart(0);
            }
            else
            {
                nextObservation.AsSpan().CopyTo(observation);
            }

            if (step + 1 >= _train.LearningStarts && replay.Count >= 1)
            {
                for (int u = 0; u < _train.UpdatesPerStep; u++)
                {
                    replay.Sample(sampler, _sac.BatchSize, staging.HostRows);
                    staging.Upload();
                    learner.Update(staging.Observations, staging.Actions, staging.Rewards, staging.NextObservations, staging.Terminated);
                }
            }

            var done = step + 1;
            bool evalNow = done % _train.EvalInterval == 0 || done == _train.Steps;
            if (evalNow)
            {
                lastEval = TorchPolicyEvaluator.Evaluate(learner.Actor, _train.Env, _train.EvalEpisodes, TorchPolicyEvaluator.EvaluationSeed(_train.Seed), device);
                if (firstStepReaching is null && _train.StopAtEvalReturn is { } goal && lastEval.Value.MeanReturn >= goal) firstStepReaching = done;
            }
            if (evalNow || done % _train.LogInterval == 0)
            {
                var now = clock.Elapsed.TotalSeconds;
                var stats = learner.ReadStats();
                var record = new TrainMetrics(done, learner.UpdateCount, now,
                    (done - lastLogStep) / Math.Max(now - lastLogTime, 1e-9), (learner.UpdateCount - lastLogUpdates) / Math.Max(now - lastLogTime, 1e-9),
                    lastEpisodeReturn, episodes, evalNow ? lastEval?.MeanReturn : null, evalNow ? lastEval?.StdReturn : null,
                    stats.Alpha, stats.CriticLoss, stats.ActorLoss, stats.AlphaLoss, stats.MeanQ, stats.Entropy);
                metrics.Write(record);
                board.WriteScalars(done, ScalarTags.From(record));
                _onMetrics?.Invoke(record);
                lastLogTime = now; lastLogStep = done; lastLogUpdates = learner.UpdateCount;
            }
            if (evalNow && firstStepReaching is not null) { step++; break; }
        }

        var final = lastEval ?? TorchPolicyEvaluator.Evaluate(learner.Actor, _train.Env, _train.EvalEpisodes, TorchPolicyEvaluator.EvaluationSeed(_train.Seed), device);
        string? checkpointError = null;
        try
        {
            LearnerCheckpoint.Save(run, learner, _train.Env, step);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The trained networks are lost, the run directory is not: its metrics stay, and no torn file is left.
            checkpointError = $"could not write the checkpoint to {run.CheckpointDirectory}: {e.Message}";
        }
        return new TrainResult(run.Path, step, learner.UpdateCount, clock.Elapsed.TotalSeconds, final, firstStepReaching) { CheckpointError = checkpointError };
    }

    private static void SampleAction(SacLearner learner, float[] observation, float[] action, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var obs = tensor(observation, [1, observation.Length]).to(device);
        var (sampled, _) = learner.Actor.Sample(obs);
        sampled.cpu().data<float>().CopyTo(action, 0, 0);
    }

    private static void SampleAction(SacLearner learner, float[] observation, float[] epsilon, float[] action, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var obs = tensor(observation, [1, observation.Length]).to(device);
        var (mean, logStd) = learner.Actor.Forward(obs);
        var noise = tensor(epsilon, [1, epsilon.Length]).to(device);
        var (sampled, _) = learner.Actor.SampleWithNoise(mean, logStd, noise);
        sampled.cpu().data<float>().CopyTo(action, 0, 0);
    }
}
