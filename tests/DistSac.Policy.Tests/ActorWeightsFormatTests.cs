namespace DistSac.Policy.Tests;

public class ActorWeightsFormatTests
{
    private static ActorWeights Sample() => ReferenceActor.RandomWeights(seed: 17, 11, [37, 20], 3, version: 123_456_789_012);

    [Fact]
    public void FromBytes_OfToBytes_RoundTripsEveryValueExactly()
    {
        ActorWeights original = Sample();

        ActorWeights copy = ActorWeights.FromBytes(original.ToBytes());

        Assert.Equal(original.Version, copy.Version);
        Assert.Equal(original.ObservationSize, copy.ObservationSize);
        Assert.Equal(original.ActionSize, copy.ActionSize);
        Assert.Equal(original.ActionLow, copy.ActionLow);
        Assert.Equal(original.ActionHigh, copy.ActionHigh);
        Assert.Equal(original.Layers.Count, copy.Layers.Count);
        for (int l = 0; l < original.Layers.Count; l++)
        {
            Assert.Equal(original.Layers[l].InputSize, copy.Layers[l].InputSize);
            Assert.Equal(original.Layers[l].OutputSize, copy.Layers[l].OutputSize);
            Assert.Equal(original.Layers[l].Weight, copy.Layers[l].Weight);
            Assert.Equal(original.Layers[l].Bias, copy.Layers[l].Bias);
        }
    }

    [Fact]
    public void ToBytes_MatchesTheSpecifiedLayoutByteForByte()
    {
        ActorWeights weights = Sample();

        byte[] bytes = weights.ToBytes();

        Assert.Equal(ActorFileEncoder.From(weights).Encode(), bytes);
    }

    [Fact]
    public void FromBytes_AcceptsAFileWrittenFromTheSpecification()
    {
        ActorWeights weights = Sample();
        byte[] independent = ActorFileEncoder.From(weights).Encode();

        ActorWeights parsed = ActorWeights.FromBytes(independent);

        Assert.Equal(weights.Layers[1].Weight, parsed.Layers[1].Weight);
    }

    [Fact]
    public void WriteTo_WritesTheSameBytesAsToBytes()
    {
        ActorWeights weights = Sample();
        using var stream = new MemoryStream();

        weights.WriteTo(stream);

        Assert.Equal(weights.ToBytes(), stream.ToArray());
    }

    [Fact]
    public void WriteTo_ASpan_WritesToBytesIntoTheStartOfALargerBuffer_AndRejectsOneTooSmall()
    {
        ActorWeights weights = Sample();
        var buffer = new byte[weights.SerializedLength + 7];
        buffer.AsSpan().Fill(0xAB);

        int written = weights.WriteTo(buffer);

        Assert.Equal(weights.SerializedLength, written);
        Assert.Equal(weights.ToBytes(), buffer[..written]);
        Assert.All(buffer[written..], b => Assert.Equal(0xAB, b));
        var e = Assert.Throws<ArgumentException>(() => weights.WriteTo(new byte[written - 1]));
        Assert.Contains($"needs {written}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithVersion_ChangesOnlyTheVersion()
    {
        ActorWeights weights = Sample();

        ActorWeights next = weights.WithVersion(42);

        Assert.Equal(42, next.Version);
        Assert.Equal(123_456_789_012, weights.Version);
        Assert.Same(weights.Layers, next.Layers);
    }

    [Fact]
    public void FromBytes_RejectsAFlippedByteWithACrcMismatch()
    {
        byte[] bytes = Sample().ToBytes();
        bytes[bytes.Length / 2] ^= 0x10;

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(bytes));

        Assert.Contains("CRC mismatch", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)] // inside the magic
    [InlineData(20)] // inside the header
    [InlineData(-500)] // inside a layer's weights
    [InlineData(-1)] // inside the CRC
    public void FromBytes_RejectsTruncatedData(int lengthOrFromEnd)
    {
        byte[] bytes = Sample().ToBytes();
        int length = lengthOrFromEnd > 0 ? lengthOrFromEnd : bytes.Length + lengthOrFromEnd;

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(bytes.AsSpan(0, length)));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsBadMagic()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.Magic = "DSACCRT1";

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("Bad magic", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsAnUnsupportedFormatVersion()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.FormatVersion = 2;

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("format version 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsALayerWhoseInputDoesNotMatchThePreviousOutput()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.Layers[1] = (36, 20, new float[36 * 20], new float[20]);

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("layer 1 takes 36 inputs but layer 0 produces 37", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsAFirstLayerThatDoesNotTakeTheObservation()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.ObservationSize = 12;

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("observation size 12 but layer 0 takes 11", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsALastLayerThatIsNotTwiceTheActionSize()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.Layers[2] = (20, 5, new float[20 * 5], new float[5]);

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("last layer produces 5 outputs but 3 action dimensions need 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsANaNWeight()
    {
        var encoder = ActorFileEncoder.From(Sample());
        encoder.Layers[1].Weight[17] = float.NaN;

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(encoder.Encode()));

        Assert.Contains("Layer 1 weight[17] is non-finite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_RejectsTrailingBytes()
    {
        byte[] bytes = [.. Sample().ToBytes(), 0, 0];

        var error = Assert.Throws<InvalidDataException>(() => ActorWeights.FromBytes(bytes));

        Assert.Contains("2 unexpected bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RejectsLayersThatDoNotChain()
    {
        var layers = new[]
        {
            new LinearLayerWeights(3, 4, new float[12], new float[4]),
            new LinearLayerWeights(5, 2, new float[10], new float[2]),
        };

        var error = Assert.Throws<ArgumentException>(() => new ActorWeights(1, layers, [-1f], [1f]));

        Assert.Contains("layer 1 takes 5 inputs but layer 0 produces 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LinearLayerWeights_RejectsAWeightOfTheWrongLength()
    {
        var error = Assert.Throws<ArgumentException>(() => new LinearLayerWeights(3, 4, new float[11], new float[4]));

        Assert.Contains("needs 12", error.Message, StringComparison.Ordinal);
    }
}
