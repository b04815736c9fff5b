namespace DistSac.Cli.Commands;

/// <summary>
/// One status line: rewritten in place on a terminal, one line per update when output is redirected (CI, logs). Its
/// text's pieces ("done/total (p%, ETA ...)") are <see cref="DistSac.Local.ProgressText"/>'s, shared with `distsac local`.
/// </summary>
public sealed class ProgressLine
{
    private readonly bool _inPlace = !Console.IsOutputRedirected;
    private int _lastLength;

    public void Update(string text)
    {
        if (_inPlace)
        {
            var padded = text.Length < _lastLength ? text.PadRight(_lastLength) : text;
            Console.Write("\r" + padded);
            _lastLength = text.Length;
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    public void Finish()
    {
        if (_inPlace && _lastLength > 0) Console.WriteLine();
        _lastLength = 0;
    }
}
