using System.Collections;

namespace DistSac.TensorBoard;

/// <summary>
/// The scalars of one metrics line, by tag. Values that are not known at this line (null) or not finite are left
/// out rather than drawn as a spike: TensorBoard cannot show a gap, and a NaN would flatten the chart's y range.
/// </summary>
public sealed class ScalarSet : IEnumerable<KeyValuePair<string, double>>
{
    private readonly List<KeyValuePair<string, double>> _values = [];

    public int Count => _values.Count;

    public ScalarSet Add(string tag, double? value)
    {
        if (value is { } v && double.IsFinite(v)) _values.Add(new(tag, v));
        return this;
    }

    public IEnumerator<KeyValuePair<string, double>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
