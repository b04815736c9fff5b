using System.CommandLine;
using DistSac.Plots;

namespace DistSac.Cli.Commands;

/// <summary>`distsac plot runs/a [runs/b ...] [-o out.png]`: learning curves from run directories' metrics.jsonl.</summary>
public static class PlotCommand
{
    public const string CurveFileName = "curve.png";

    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (runs/<id>); runs of one configuration with different seeds become a mean with a min-max band.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output", "-o") { Description = $"PNG to write (default: runs/<id>/{CurveFileName} for one run, curves.png for several)." };
        var command = new Command("plot", "Draw evaluation return against env steps and against wall-clock time as a PNG.") { runs, output };
        command.SetAction(parse =>
        {
            var dirs = parse.GetValue(runs)!;
            var curves = dirs.Select(RunCurve.Read).ToList();
            var path = parse.GetValue(output) ?? (dirs.Length == 1 ? Path.Combine(dirs[0], CurveFileName) : "curves.png");
            Render(curves, path);
            Console.WriteLine($"learning curve: {Path.GetFullPath(path)}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Draws the curve at the end of `train` and `local`; a run too short to have an evaluation, or a machine where
    /// SkiaSharp's native library cannot load, gets a line saying why instead of a failed run.
    /// </summary>
    public static void TryWriteCurve(string runDirectory, Action<string> say)
    {
        try
        {
            var path = Path.Combine(runDirectory, CurveFileName);
            Render([RunCurve.Read(runDirectory)], path);
            say($"learning curve: {path}");
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            say($"no learning curve drawn: {e.Message}");
        }
    }

    private static void Render(IReadOnlyList<RunCurve> curves, string path)
    {
        try
        {
            LearningCurvePlot.Save(curves, path);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            // Not libtorch (Program would say so): SkiaSharp ships libSkiaSharp.so for linux-x64/arm64 in the build output.
            throw new InvalidOperationException($"SkiaSharp's native library could not be loaded, so no PNG was drawn ({e.GetBaseException().Message}); metrics.jsonl and tb/ hold the data.", e);
        }
    }
}
