using System.Text;
using DistSac.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

/// <summary>
/// Everything needed to resume a learner: network, target and optimizer tensors, log alpha and counters, in one file
/// written to a temporary name and renamed, so a crash mid-write never leaves a torn checkpoint. The actor is also
/// written in DistSac.Policy's format (actor.dsac) for evaluation without libtorch.
/// </summary>
public static class LearnerCheckpoint
{
    private static readonly byte[] Magic = "DSACLRN2"u8.ToArray();

    public static void Save(RunDirectory run, SacLearner learner, string envId, long envSteps)
    {
        var weights = ActorExport.ToActorWeights(learner.Actor, learner.UpdateCount);
        WriteAtomically(run.ActorWeightsPath, s => weights.WriteTo(s));
        WriteAtomically(run.LearnerCheckpointPath, s => Write(s, learner, envId, envSteps));
    }

    public static void Write(Stream stream, SacLearner learner, string envId, long envSteps)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(envId);
        w.Write(learner.ObservationSize);
        w.Write(learner.ActionSize);
        w.Write(envSteps);
        w.Write(learner.UpdateCount);
        w.Write(learner.AlphaOptimizer is not null);
        foreach (var t in StateTensors(learner)) WriteTensor(w, t);
        w.Write(learner.ActorOptimizer.StepCount);
        w.Write(learner.CriticOptimizer.StepCount);
        w.Write(learner.AlphaOptimizer?.StepCount ?? 0);
    }

    /// <summary>Restores a checkpoint into a learner built with the same sizes; returns (env id, env steps).</summary>
    public static (string EnvId, long EnvSteps) Read(Stream stream, SacLearner learner)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var magic = r.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("Not a DistSac learner checkpoint (bad magic).");
        var envId = r.ReadString();
        var obs = r.ReadInt32();
        var act = r.ReadInt32();
        if (obs != learner.ObservationSize || act != learner.ActionSize)
            throw new InvalidDataException($"Checkpoint is for observation/action sizes {obs}/{act}; this learner has {learner.ObservationSize}/{learner.ActionSize}.");
        var envSteps = r.ReadInt64();
        var updates = r.ReadInt64();
        var learnsAlpha = r.ReadBoolean();
        if (learnsAlpha != learner.AlphaOptimizer is not null)
            throw new InvalidDataException($"Checkpoint was written with Sac:LearnAlpha = {learnsAlpha}; this learner has {learner.AlphaOptimizer is not null}. Use the same setting to resume.");
        foreach (var t in StateTensors(learner)) ReadTensor(r, t);
        var actorSteps = r.ReadInt64();
        var criticSteps = r.ReadInt64();
        var alphaSteps = r.ReadInt64();
        if (stream.CanSeek && stream.Position != stream.Length)
            throw new InvalidDataException($"Checkpoint has {stream.Length - stream.Position} unexpected trailing bytes (written by a different version or network shape?).");
        learner.RestoreCounters(updates, actorSteps, criticSteps, alphaSteps);
        return (envId, envSteps);
    }

    private static IEnumerable<Tensor> StateTensors(SacLearner learner)
    {
        yield return learner.Actor.Parameters.Values;
        yield return learner.Critic.Parameters.Values;
        yield return learner.CriticTarget.Parameters.Values;
        yield return learner.LogAlphaValues;
        yield return learner.ActorOptimizer.FirstMoment;
        yield return learner.ActorOptimizer.SecondMoment;
        yield return learner.CriticOptimizer.FirstMoment;
        yield return learner.CriticOptimizer.SecondMoment;
        if (learner.AlphaOptimizer is { } alpha)
        {
            yield return alpha.FirstMoment;
            yield return alpha.SecondMoment;
        }
    }

    private static void WriteTensor(BinaryWriter w, Tensor t)
    {
        using var host = t.detach().cpu().contiguous();
        var values = host.data<float>().ToArray();
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    private static void ReadTensor(BinaryReader r, Tensor destination)
    {
        var n = r.ReadInt32();
        if (n != destination.numel())
            throw new InvalidDataException($"Checkpoint tensor has {n} values; the learner expects {destination.numel()} (different network sizes?).");
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = r.ReadSingle();
        using var source = tensor(values).to(destination.device);
        using (no_grad()) destination.copy_(source.view(destination.shape));
    }

    public static void WriteAtomically(string path, Action<Stream> write)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
