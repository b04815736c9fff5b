using DistSac.Envs;
using DistSac.Protocol;

namespace DistSac.Gateway.Tests;

public sealed class PushValidatorTests
{
    private static readonly TransitionRecord Pendulum = new(3, 1);
    private static readonly RecordBounds PendulumBounds = EnvironmentBounds.For(EnvironmentRegistry.GetSpec("Pendulum-v1"), 1e6);

    [Fact]
    public void Validate_AcceptsAWellFormedBatch() =>
        Assert.Null(PushValidator.Validate("worker-a", 1, 0, 3, GatewayTestbed.Records(3), PendulumBounds));

    [Theory]
    [InlineData("has space", "\"has space\" has \" \" at index 3")]
    [InlineData("tab\there", "\"tab\\u0009here\" has \"\\u0009\" at index 3")]
    [InlineData("bell\a", "\"bell\\u0007\" has \"\\u0007\" at index 4")]
    [InlineData("esc\u001b[31mred", "\"esc\\u001b[31mred\" has \"\\u001b\" at index 3")]
    [InlineData("caf\u00e9", "has \"\\u00e9\" at index 3")]
    public void ValidateWorkerId_RefusesOtherCharacters_QuotingTheIdWithControlCharactersEscaped(string workerId, string expected)
    {
        var error = PushValidator.ValidateWorkerId(workerId)!;

        Assert.Contains(expected, error);
        foreach (char c in error) Assert.InRange(c, ' ', '~');
    }

    [Fact]
    public void ValidateWorkerId_AcceptsExactlyTheCharactersItsMessageNames()
    {
        // The message's list, written out independently: ASCII letters, digits and - _ . / :
        const string named = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:";
        Assert.Contains("use only ASCII letters A-Z and a-z, digits 0-9 and - _ . / :", PushValidator.ValidateWorkerId("a b"));
        for (int c = 0; c <= char.MaxValue; c++)
        {
            bool accepted = PushValidator.ValidateWorkerId("w" + (char)c) is null;
            Assert.True(accepted == named.Contains((char)c, StringComparison.Ordinal), $"U+{c:X4} accepted: {accepted}");
        }
    }

    [Fact]
    public void ValidateWorkerId_AcceptsExactly128Characters()
    {
        Assert.Null(PushValidator.ValidateWorkerId(new string('w', 128)));
        Assert.NotNull(PushValidator.ValidateWorkerId(new string('w', 129)));
    }

    [Fact]
    public void Validate_NamesTheExpectedByteCount()
    {
        var error = PushValidator.Validate("worker-a", 1, 0, 3, new byte[100], PendulumBounds);

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

        Assert.Contains("policy version -2", PushValidator.Validate("worker-a", 1, 0, 1, records, PendulumBounds));
    }

    // Float offsets in a Pendulum-v1 record: obs 0..2, action 3, reward 4, next_obs 5..7, terminated 8.
    [Theory]
    [InlineData(3, 5f, "action[0] = 5, outside [-2, 2], the action bounds of Pendulum-v1")]
    [InlineData(3, -100f, "action[0] = -100, outside [-2, 2]")]
    [InlineData(0, 5f, "obs[0] = 5, outside [-1, 1], the observation bounds of Pendulum-v1")]
    [InlineData(2, 3e38f, "obs[2] = 3E+38, outside [-8, 8]")]
    [InlineData(7, -8.5f, "next_obs[2] = -8.5, outside [-8, 8]")]
    [InlineData(4, 0.5f, "reward = 0.5, outside [-16.273605, 0], the reward range of Pendulum-v1")]
    [InlineData(4, -17f, "reward = -17")]
    public void Validate_RefusesAValueOutsideTheEnvironmentsSpaces_NamingRecordFieldAndBound(int floatIndex, float value, string expected)
    {
        var records = GatewayTestbed.Records(3);
        SetFloat(records, record: 2, floatIndex, value);

        var error = PushValidator.Validate("worker-a", 1, 0, 3, records, PendulumBounds);

        Assert.Contains("record 2 has " + expected, error);
    }

    [Theory]
    [InlineData(3, 2f)]
    [InlineData(3, -2f)]
    [InlineData(0, -1f)]
    [InlineData(2, 8f)]
    [InlineData(7, -8f)]
    [InlineData(4, 0f)]
    [InlineData(4, -16.2736044f)]
    public void Validate_AcceptsValuesOnTheBounds(int floatIndex, float value)
    {
        var records = GatewayTestbed.Records(1);
        SetFloat(records, record: 0, floatIndex, value);

        Assert.Null(PushValidator.Validate("worker-a", 1, 0, 1, records, PendulumBounds));
    }

    [Fact]
    public void Validate_HoldsUnboundedValuesToTheMagnitudeLimit()
    {
        var bounds = RecordBounds.Create("Unbounded-v0", [float.NegativeInfinity], [float.PositiveInfinity], [-1f], [1f],
            float.NegativeInfinity, float.PositiveInfinity, maxAbsValue: 1000f);
        var layout = bounds.Layout;
        var records = new byte[layout.RecordBytes];
        layout.Write(records, [999f], [0f], -1000f, [-999f], terminated: false, policyVersion: 0);
        Assert.Null(bounds.Validate(records, 1));

        layout.Write(records, [1001f], [0f], 0f, [0f], terminated: false, policyVersion: 0);
        Assert.Contains("obs[0] = 1001, outside [-1000, 1000], the magnitude limit for values Unbounded-v0 does not bound (Gateway:MaxAbsValue)",
            bounds.Validate(records, 1));
    }

    [Theory]
    [InlineData(100f, true)]
    [InlineData(-0.1f, true)]
    [InlineData(-0.2f, false)]
    [InlineData(100.5f, false)]
    public void Validate_UsesMountainCarsRewardRange(float reward, bool accepted)
    {
        var bounds = EnvironmentBounds.For(EnvironmentRegistry.GetSpec("MountainCarContinuous-v0"), 1e6);
        var layout = bounds.Layout;
        var records = new byte[layout.RecordBytes];
        layout.Write(records, [-0.5f, 0f], [1f], reward, [-0.5f, 0.01f], terminated: reward > 50, policyVersion: 0);

        Assert.Equal(accepted, bounds.Validate(records, 1) is null);
    }

    private static void SetFloat(byte[] records, int record, int floatIndex, float value) =>
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(records.AsSpan(record * 40 + 4 * floatIndex), value);
}
