using System.Text;
using DistSac.Testing;

namespace DistSac.TensorBoard.Tests;

public sealed class EventFileWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "distsac-tb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Crc32C_OfTheStandardCheckString_IsE3069283()
    {
        var check = Encoding.ASCII.GetBytes("123456789");

        Assert.Equal(0xE3069283u, MaskedCrc32C.Compute(check));
        Assert.Equal(0xE3069283u, TfEventsReader.Crc32C(check));
    }

    [Fact]
    public void Crc32C_AgreesWithTheBitwiseFormOnEveryLengthAndOffset()
    {
        var bytes = new byte[300];
        new Random(3).NextBytes(bytes);
        for (int start = 0; start < 9; start++)
            for (int length = 0; length + start <= bytes.Length; length += 7)
                Assert.Equal(TfEventsReader.Crc32C(bytes.AsSpan(start, length)), MaskedCrc32C.Compute(bytes.AsSpan(start, length)));
    }

    [Fact]
    public void Create_NamesTheFileLikeTensorFlowAndStartsWithTheFileVersion()
    {
        var now = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using (var writer = EventFileWriter.Create(_dir, now))
        {
            Assert.Equal($"events.out.tfevents.1700000000.{Environment.MachineName}", Path.GetFileName(writer.Path));
        }

        var events = TfEventsReader.ReadDirectory(_dir);

        var first = Assert.Single(events);
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Equal(1_700_000_000.0, first.WallTime);
    }

    [Fact]
    public void WriteScalars_ReadBackByAnIndependentReader_GivesTheLoggedValuesAtTheirSteps()
    {
        var clock = new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250));
        using var writer = EventFileWriter.Create(_dir, clock);

        writer.WriteScalars(1_000, new ScalarSet().Add("eval/return_mean", -1234.5).Add("train/alpha", 0.125));
        clock.Now = clock.Now.AddSeconds(2);
        writer.WriteScalars(2_000, new ScalarSet().Add("eval/return_mean", -150.25).Add("replay/fill_shard_1", 4096));

        // Read while the writer is still open: what a live TensorBoard sees mid-run.
        var events = TfEventsReader.ReadDirectory(_dir);
        Assert.Equal(3, events.Count);
        Assert.Equal(1_000, events[1].Step);
        Assert.Equal(1_700_000_000.25, events[1].WallTime);
        Assert.Equal([("eval/return_mean", -1234.5f), ("train/alpha", 0.125f)], Scalars(events[1]));
        Assert.Equal(2_000, events[2].Step);
        Assert.Equal(1_700_000_002.25, events[2].WallTime);
        Assert.Equal([("eval/return_mean", -150.25f), ("replay/fill_shard_1", 4096f)], Scalars(events[2]));
    }

    [Fact]
    public void WriteText_IsAStringTensorForTheTextPlugin()
    {
        using var writer = EventFileWriter.Create(_dir);

        writer.WriteText("config", "    {\"Seed\": 3}");

        var value = Assert.Single(TfEventsReader.ReadDirectory(_dir)[1].Values);
        Assert.Equal("config", value.Tag);
        Assert.Equal("text", value.PluginName);
        Assert.Equal("    {\"Seed\": 3}", value.Text);
        Assert.Null(value.SimpleValue);
    }

    [Fact]
    public void Create_TwiceInTheSameSecond_KeepsBothFiles()
    {
        var now = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using (var first = EventFileWriter.Create(_dir, now)) first.WriteScalars(1, new ScalarSet().Add("a", 1));
        using (var second = EventFileWriter.Create(_dir, now)) second.WriteScalars(2, new ScalarSet().Add("a", 2));

        var events = TfEventsReader.ReadDirectory(_dir);

        Assert.Equal(2, Directory.GetFiles(_dir).Length);
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public void Reader_RejectsAFlippedByte()
    {
        string path;
        using (var writer = EventFileWriter.Create(_dir))
        {
            writer.WriteScalars(5, new ScalarSet().Add("a", 1));
            path = writer.Path;
        }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x40;

        Assert.Throws<InvalidDataException>(() => TfEventsReader.Read(bytes));
    }

    [Fact]
    public void ScalarSet_LeavesOutUnknownAndNonFiniteValues()
    {
        var set = new ScalarSet().Add("known", 1).Add("unknown", null).Add("nan", double.NaN).Add("inf", double.PositiveInfinity);

        Assert.Equal(["known"], set.Select(kv => kv.Key));
    }

    private static List<(string, float)> Scalars(TfEvent e) => e.Values.Select(v => (v.Tag, v.SimpleValue!.Value)).ToList();

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
