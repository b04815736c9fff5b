namespace DistSac.Local;

/// <summary>
/// The run directory a `distsac local` run shares with its learner (runs/&lt;id&gt;/). Its layout is DistSac.Learning's
/// RunDirectory; the caller creates it and passes the paths in, so this project needs no TorchSharp.
/// </summary>
public sealed record LocalRunDirectory(string RunId, string Path, string MetricsPath, string CheckpointDirectory);
