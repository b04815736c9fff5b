using System.Buffers.Binary;

namespace DistSac.Plots.Tests;

public sealed class PlotTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("distsac-plots-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Combine_InterpolatesEverySeedAtEveryX_AndTakesMeanMinMax()
    {
        IReadOnlyList<(double, double)> a = [(0, 0), (10, 10)];
        IReadOnlyList<(double, double)> b = [(0, 4), (5, 4), (10, 4)];

        var band = SeedAggregate.Combine([a, b]);

        Assert.Equal([0.0, 5, 10], band.X);
        Assert.Equal([2.0, 4.5, 7], band.Mean);
        Assert.Equal([0.0, 4, 4], band.Min);
        Assert.Equal([4.0, 5, 10], band.Max);
    }

    [Fact]
    public void Combine_KeepsOnlyTheRangeEverySeedCovers()
    {
        IReadOnlyList<(double, double)> a = [(0, 0), (4, 4), (10, 10)];
        IReadOnlyList<(double, double)> b = [(2, 0), (8, 0)];

        var band = SeedAggregate.Combine([a, b]);

        Assert.Equal([2.0, 4, 8], band.X);
        Assert.Equal([1.0, 2, 4], band.Mean);
    }

    [Fact]
    public void Read_TakesEvaluationsFromTrainAndLearnerLines_AndGroupsSeedsOfOneConfiguration()
    {
        var train1 = Run("train-s1", """{"Train":{"Env":"Pendulum-v1","Seed":1,"RunId":"train-s1","Steps":2000},"Sac":{"Gamma":0.99}}""",
            """{"step":500,"time_s":1.5,"eval_return":null}""",
            """{"step":1000,"time_s":3.0,"eval_return":-900.5}""",
            """{"step":2000,"time_s":6.0,"eval_return":"NaN"}""");
        var train2 = Run("train-s2", """{"Train":{"Env":"Pendulum-v1","Seed":2,"RunId":"train-s2","Steps":2000},"Sac":{"Gamma":0.99}}""",
            """{"step":1000,"time_s":2.0,"eval_return":-800}""");
        var other = Run("train-gamma", """{"Train":{"Env":"Pendulum-v1","Seed":1,"RunId":"train-gamma","Steps":2000},"Sac":{"Gamma":0.9}}""",
            """{"step":1000,"time_s":2.0,"eval_return":-700}""");
        var learner = Run("learner", """{"Learner":{"Env":"MountainCarContinuous-v0","Seed":5}}""",
            """{"updates":100,"env_steps":1234,"time_s":9.5,"eval_return":-50.25}""");

        var a = RunCurve.Read(train1);
        var b = RunCurve.Read(train2);
        var c = RunCurve.Read(other);
        var d = RunCurve.Read(learner);

        Assert.Equal([new EvaluationPoint(1000, 3.0, -900.5)], a.Points);
        Assert.Equal(("Pendulum-v1", 1L), (a.Env, a.Seed!.Value));
        Assert.Equal(a.Configuration, b.Configuration);
        Assert.NotEqual(a.Configuration, c.Configuration);
        Assert.Equal([new EvaluationPoint(1234, 9.5, -50.25)], d.Points);
        Assert.Equal(("MountainCarContinuous-v0", 5L), (d.Env, d.Seed!.Value));
    }

    [Fact]
    public void Read_OfAFolderWithoutMetrics_NamesTheFolder()
    {
        var error = Assert.Throws<FileNotFoundException>(() => RunCurve.Read(_root.FullName));

        Assert.Contains(_root.FullName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_WritesAPngOfTheAskedSize_ForOneRunAndForASeedBand()
    {
        var s1 = Run("s1", """{"Train":{"Env":"Pendulum-v1","Seed":1}}""", """{"step":1000,"time_s":2,"eval_return":-1200}""", """{"step":2000,"time_s":4,"eval_return":-600}""");
        var s2 = Run("s2", """{"Train":{"Env":"Pendulum-v1","Seed":2}}""", """{"step":1000,"time_s":3,"eval_return":-1000}""", """{"step":2000,"time_s":5,"eval_return":-300}""");
        var single = Path.Combine(_root.FullName, "single.png");
        var band = Path.Combine(_root.FullName, "out", "band.png");

        LearningCurvePlot.Save([RunCurve.Read(s1)], single, 800, 300);
        LearningCurvePlot.Save([RunCurve.Read(s1), RunCurve.Read(s2)], band);

        Assert.Equal((800, 300), PngSize(single));
        Assert.Equal((LearningCurvePlot.DefaultWidth, LearningCurvePlot.DefaultHeight), PngSize(band));
    }

    [Fact]
    public void Save_WithoutAnyEvaluation_SaysSoAndWritesNothing()
    {
        var run = Run("empty", "{}", """{"step":500,"time_s":1,"eval_return":null}""");
        var png = Path.Combine(_root.FullName, "none.png");

        var error = Assert.Throws<InvalidOperationException>(() => LearningCurvePlot.Save([RunCurve.Read(run)], png));

        Assert.Contains("No evaluation", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void ScalingPlot_WritesAPng_OnLinearAndLogAxes()
    {
        var narrow = Path.Combine(_root.FullName, "narrow.png");
        var wide = Path.Combine(_root.FullName, "wide.png");

        ScalingPlot.Save(narrow, [new(1, 480), new(2, 900), new(4, 1500)], 500, 480, "narrow", null);
        ScalingPlot.Save(wide, [new(1, 480), new(2, 900), new(4, 1500), new(8, 1700), new(16, 1750)], 500, 480, "wide", "2 cores");

        Assert.Equal((960, 600), PngSize(narrow));
        Assert.Equal((960, 600), PngSize(wide));
    }

    private string Run(string name, string config, params string[] lines)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root.FullName, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), lines);
        return dir;
    }

    /// <summary>Width and height from the IHDR chunk, after checking the PNG signature.</summary>
    private static (int, int) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
