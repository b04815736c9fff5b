using System.Text;
using DistSac.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

/// <summary>What a checkpoint restores besides the tensors: the env, its step count, and the weights version offset
/// (published version = offset + update count, so versions keep rising across learner restarts).</summary>
public sealed record LearnerCheckpointState(string EnvId, long EnvSteps, long WeightsVersionOffset)
{
    /// <summary>The file it was loaded from (learner.ckpt, or learner.ckpt.prev after a fallback).</summary>
    public string? Path { get; init; }
}

/// <summary>
/// Everything needed to resume a learner: network, target and optimizer tensors, log alpha and counters. learner.ckpt
/// carries its length and CRC-32 (<see cref="ChecksummedFile"/>) and is written durably (<see cref="DurableFile"/>),
/// keeping the previous generation as learner.ckpt.prev; loading falls back to it when the newest is damaged. The actor
/// is also written in DistSac.Policy's format (actor.dsac, CRC-checked too) for evaluation without libtorch.
/// </summary>
public static class LearnerCheckpoint
{
    private static readonly byte[] Magic = "DSACLRN3"u8.ToArray();
    // Written before checksums and the version offset: still read, unverified, so an upgraded learner resumes.
    private static readonly byte[] LegacyMagic = "DSACLRN2"u8.ToArray();

    /// <summary>Writes learner.ckpt, then actor.dsac, each keeping its previous generation.</summary>
    /// <exception cref="IOException">The checkpoint folder cannot be written (read-only, full, missing); nothing is torn.</exception>
    /// <exception cref="UnauthorizedAccessException">The checkpoint folder is not writable by this user.</exception>
    public static void Save(RunDirectory run, SacLearner learner, string envId, long envSteps, long weightsVersionOffset = 0)
    {
        using var payload = new MemoryStream();
        Write(payload, learner, envId, envSteps, weightsVersionOffset);
        var bytes = new ArraySegment<byte>(payload.GetBuffer(), 0, (int)payload.Length);
        DurableFile.Write(run.LearnerCheckpointPath, s => ChecksummedFile.Write(s, bytes), keepPrevious: true);
        // The actor second: a failure between the two leaves actor.dsac older than learner.ckpt, never newer.
        var weights = ActorExport.ToActorWeights(learner.Actor, weightsVersionOffset + learner.UpdateCount);
        DurableFile.Write(run.ActorWeightsPath, weights.WriteTo, keepPrevious: true);
    }

    /// <summary>
    /// Restores the newest good generation (learner.ckpt, else learner.ckpt.prev), calling <paramref name="warn"/> for
    /// each damaged one skipped; null when the run has no checkpoint yet.
    /// </summary>
    /// <exception cref="InvalidDataException">Checkpoint files exist but none is usable, or an intact one does not fit
    /// this learner's sizes or settings. Never a silent fresh start over a run that had checkpoints.</exception>
    public static LearnerCheckpointState? Load(RunDirectory run, SacLearner learner, Action<string> warn)
    {
        var problems = new List<string>();
        foreach (var path in new[] { run.LearnerCheckpointPath, DurableFile.PreviousOf(run.LearnerCheckpointPath) })
        {
            if (!File.Exists(path)) continue;
            if (TryLoad(path, learner, out var state, out var problem)) return state! with { Path = path };
            problems.Add($"{path}: {problem}");
            warn($"Checkpoint {path} is unusable ({problem}); trying the previous generation");
        }
        if (problems.Count == 0) return null;
        throw new InvalidDataException(
            $"No usable learner checkpoint in {run.CheckpointDirectory} ({string.Join("; ", problems)}). Refusing to start this run " +
            "over from scratch: restore a good learner.ckpt, or move the checkpoint folder away to start afresh on purpose.");
    }

    private static bool TryLoad(string path, SacLearner learner, out LearnerCheckpointState? state, out string? problem)
    {
        state = null;
        problem = null;
        var file = File.ReadAllBytes(path);
        ArraySegment<byte> payload;
        bool verified = ChecksummedFile.IsFramed(file);
        if (verified)
        {
            try
            {
                payload = ChecksummedFile.Payload(file);
            }
            catch (InvalidDataException e)
            {
                problem = e.Message;
                return false;
            }
        }
        else if (file.AsSpan().StartsWith(LegacyMagic))
        {
            payload = file;
        }
        else
        {
            problem = file.Length == 0 ? "empty file" : "bad magic (not a DistSac learner checkpoint, or its first bytes are damaged)";
            return false;
        }

        try
        {
            using var stream = new MemoryStream(payload.Array!, payload.Offset, payload.Count, writable: false);
            state = Read(stream, learner);
            return true;
        }
        catch (InvalidDataException e) when (!verified)
        {
            problem = e.Message; // an unchecked legacy file that does not parse is as good as damaged
            return false;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Checkpoint {path} is intact but does not fit this learner: {e.Message}", e);
        }
    }

    /// <summary>Writes the checkpoint payload (no length or checksum frame; <see cref="Save"/> adds them).</summary>
    public static void Write(Stream stream, SacLearner learner, string envId, long envSteps, long weightsVersionOffset = 0)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(envId);
        w.Write(learner.ObservationSize);
        w.Write(learner.ActionSize);
        w.Write(envSteps);
        w.Write(learner.UpdateCount);
        w.Write(weightsVersionOffset);
        w.Write(learner.AlphaOptimizer is not null);
        foreach (var t in StateTensors(learner)) WriteTensor(w, t);
        w.Write(learner.ActorOptimizer.StepCount);
        w.Write(learner.CriticOptimizer.StepCount);
        w.Write(learner.AlphaOptimizer?.StepCount ?? 0);
    }

    /// <summary>Restores a checkpoint payload into a learner built with the same sizes.</summary>
    /// <exception cref="InvalidDataException">Not a checkpoint, truncated, or written for other sizes or settings.</exception>
    public static LearnerCheckpointState Read(Stream stream, SacLearner learner)
    {
        try
        {
            return ReadPayload(stream, learner);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"Checkpoint is truncated or damaged ({e.Message})", e);
        }
    }

    private static LearnerCheckpointState ReadPayload(Stream stream, SacLearner learner)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var magic = r.ReadBytes(Magic.Length);
        bool legacy = magic.AsSpan().SequenceEqual(LegacyMagic);
        if (!legacy && !magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("Not a DistSac learner checkpoint (bad magic).");
        var envId = r.ReadString();
        var obs = r.ReadInt32();
        var act = r.ReadInt32();
        if (obs != learner.ObservationSize || act != learner.ActionSize)
            throw new InvalidDataException($"Checkpoint is for observation/action sizes {obs}/{act}; this learner has {learner.ObservationSize}/{learner.ActionSize}.");
        var envSteps = r.ReadInt64();
        var updates = r.ReadInt64();
        var versionOffset = legacy ? 0 : r.ReadInt64();
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
        return new LearnerCheckpointState(envId, envSteps, versionOffset);
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
        using var scope = NewDisposeScope(); // keeps the chain's temporaries reachable (see ActorExport)
        var values = t.detach().cpu().contiguous().data<float>().ToArray();
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
        using var scope = NewDisposeScope(); // keeps tensor(values) and the view reachable during the native calls
        using (no_grad()) destination.copy_(tensor(values).to(destination.device).view(destination.shape));
    }
}
