using DistSac.Learning.Networks;
using static TorchSharp.torch;

namespace DistSac.Learning;

/// <summary>The next actions a' ~ pi(.|s') and their log-probabilities, drawn once per update for the critic target.</summary>
public readonly record struct NextActions(Tensor Actions, Tensor LogProb);

/// <summary>
/// Where and in which order the two halves of one SAC update run; the only place in the learner that knows about
/// threads. Every gradient step of an update starts from the parameters as they were before it (the paper's
/// "simultaneous" form), so the halves are independent except for a' ~ pi(.|s'), which the actor half draws because
/// it owns the actor and its noise generator.
/// - One after the other: a' drawn, actor half on the live critics, then the critic half.
/// - Concurrently (CPU, two cores): the critic half on its own stream, the actor half on the caller's thread against a
///   snapshot of the critics taken before the critic half starts; the critic half computes Q(s, a) first and waits
///   for a' only when it needs the target.
/// </summary>
internal sealed class SacUpdateSchedule : IDisposable
{
    private readonly CriticStream? _stream;
    private readonly TwinCritic? _criticSnapshot;
    private readonly ManualResetEventSlim _nextReady = new(false);
    private NextActions _next;

    public SacUpdateSchedule(bool concurrent, Func<TwinCritic> newCritic)
    {
        if (!concurrent) return;
        _stream = new CriticStream();
        _criticSnapshot = newCritic();
    }

    public bool Concurrent => _stream is not null;

    /// <param name="critic">The live critics, updated by <paramref name="criticHalf"/>.</param>
    /// <param name="drawNextActions">Draws a' ~ pi(.|s') on the actor's side.</param>
    /// <param name="criticHalf">The critic step; it calls its argument to get a' when it needs it.</param>
    /// <param name="actorHalf">The actor and temperature steps against the critics it is given.</param>
    public void Run(TwinCritic critic, Func<NextActions> drawNextActions, Action<Func<NextActions>> criticHalf, Action<TwinCritic> actorHalf)
    {
        if (_stream is null)
        {
            var next = drawNextActions();
            actorHalf(critic);
            criticHalf(() => next);
            return;
        }

        _criticSnapshot!.Parameters.CopyFrom(critic.Parameters);
        _nextReady.Reset();
        _stream.Start(() => criticHalf(WaitForNextActions));
        try
        {
            _next = drawNextActions();
            _nextReady.Set();
            actorHalf(_criticSnapshot);
        }
        finally
        {
            // Never leave the critic stream waiting for a' (it then fails on the missing tensors and Wait rethrows).
            _nextReady.Set();
            _stream.Wait();
            _next = default;
        }
    }

    private NextActions WaitForNextActions()
    {
        _nextReady.Wait();
        return _next;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _criticSnapshot?.Dispose();
        _nextReady.Dispose();
    }
}
