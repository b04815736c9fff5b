using DistSac.Protocol;

namespace DistSac.Gateway.Tests;

public sealed class PushValidatorTests
{
    private static readonly TransitionRecord Pendulum = new(3, 1);

    [Fact]
    public void Validate_AcceptsAWellFormedBatch() =>
        Assert.Null(PushValidator.Validate("worker-a", 0, 3, GatewayTestbed.Records(3), Pendulum));

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("bell\a")]
    public void ValidateWorkerId_RefusesWhitespaceAndControlCharacters(string workerId) =>
        Assert.Contains("whitespace or a control character", PushValidator.ValidateWorkerId(workerId));

    [Fact]
    public void ValidateWorkerId_AcceptsExactly128Characters()
    {
        Assert.Null(PushValidator.ValidateWorkerId(new string('w', 128)));
        Assert.NotNull(PushValidator.ValidateWorkerId(new string('w', 129)));
    }

    [Fact]
    public void Validate_NamesTheExpectedByteCount()
    {
        var error = PushValidator.Validate("worker-a", 0, 3, new byte[100], Pendulum);

        Assert.Contains("records has 100 bytes but transition_count 3 x record_bytes 40 = 120", error);
    }

    [Fact]
    public void MaxTransitions_IsTheProtocolLimitForSmallRecords() =>
        Assert.Equal(4096, PushValidator.MaxTransitions(Pendulum));

    [Fact]
    public void MaxTransitions_ShrinksSoAFullBatchOfLargeRecordsFitsOneMessage()
    {
        var large = new TransitionRecord(2000, 10); // 4 * (4000 + 10 + 3) = 16052 bytes per record
        int max = PushValidator.MaxTransitions(large);

        Assert.True((long)max * 16052 <= 16 * 1024 * 1024, $"{max} records exceed the message limit");
        Assert.True((long)(max + 1) * 16052 > 16 * 1024 * 1024 - 4096, $"{max} is smaller than it needs to be");
    }

    [Fact]
    public void Validate_RefusesAPolicyVersionBelowMinusOne()
    {
        var records = GatewayTestbed.Records(1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(records.AsSpan(36), -2);

        Assert.Contains("policy version -2", PushValidator.Validate("worker-a", 0, 1, records, Pendulum));
    }
}
