using System.Text.Json.Nodes;
using DistSac.Learning.Training;

namespace DistSac.Learning.Tests;

/// <summary>
/// metrics.jsonl on a full disk: the line is dropped and reported, training goes on, and writing resumes when the
/// disk has room again. /dev/full answers every write with ENOSPC, so a symlink to it is a full disk on demand.
/// </summary>
public sealed class MetricsWriterFailureTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("distsac-metrics-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed record Line(long Updates);

    [Fact]
    public void Write_OnAFullDisk_DropsTheLineReportsItOnceAndResumesWhenThereIsRoom()
    {
        var path = Path.Combine(_folder, "metrics.jsonl");
        var real = Path.Combine(_folder, "real.jsonl");
        File.CreateSymbolicLink(path, "/dev/full");
        var health = new RunFileHealth();
        var failing = new List<string>();
        var recovered = new List<string>();
        health.Failing += (p, e) => failing.Add(p + ": " + e.GetType().Name);
        health.Recovered += recovered.Add;
        using var writer = new MetricsWriter(path, health);

        Assert.False(writer.Write(new Line(1)));
        Assert.False(writer.Write(new Line(2)));
        Assert.Equal(2, health.FailedWrites);
        Assert.Equal([path + ": IOException"], failing); // once per outage, not once per line
        Assert.Empty(recovered);

        File.Delete(path);
        File.CreateSymbolicLink(path, real); // the disk has room again
        Assert.True(writer.Write(new Line(3)));
        Assert.True(writer.Write(new Line(4)));

        Assert.Equal([path], recovered);
        var updates = File.ReadAllLines(real).Where(l => l.Length > 0).Select(l => (long)JsonNode.Parse(l)!["updates"]!).ToArray();
        Assert.Equal([3L, 4L], updates);
    }

    [Fact]
    public void Write_AfterAFailure_StartsOnAFreshLineSoATornLineCannotSwallowTheNext()
    {
        var path = Path.Combine(_folder, "metrics.jsonl");
        var real = Path.Combine(_folder, "real.jsonl");
        File.WriteAllText(real, "{\"updates\":1,\"torn"); // what a write cut off by a full disk leaves
        File.CreateSymbolicLink(path, "/dev/full");
        using var writer = new MetricsWriter(path);
        Assert.False(writer.Write(new Line(2)));
        File.Delete(path);
        File.CreateSymbolicLink(path, real);

        Assert.True(writer.Write(new Line(3)));

        var lines = File.ReadAllLines(real);
        Assert.Equal("{\"updates\":1,\"torn", lines[0]);
        Assert.Equal(3L, (long)JsonNode.Parse(lines[^1])!["updates"]!);
    }
}
