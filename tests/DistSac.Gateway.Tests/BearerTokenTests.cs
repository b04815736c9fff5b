using DistSac.Protocol;

namespace DistSac.Gateway.Tests;

public sealed class BearerTokenTests : IDisposable
{
    private const string A = "token-a-0123456789abcdef";
    private const string B = "token-b-0123456789abcdef";
    private readonly string _dir = Directory.CreateTempSubdirectory("distsac-token-").FullName;

    [Fact]
    public void Accepts_OnlyTheBearerSchemeWithTheExactToken()
    {
        var token = BearerToken.FromValue(A);

        Assert.True(token.Accepts("Bearer " + A));
        Assert.True(token.Accepts("bearer " + A));
        Assert.False(token.Accepts(A));
        Assert.False(token.Accepts("Bearer " + A[..^1]));
        Assert.False(token.Accepts("Bearer " + A + "x"));
        Assert.False(token.Accepts("Bearer "));
        Assert.False(token.Accepts(null));
    }

    [Fact]
    public void ToString_AndErrors_NeverShowTheValue()
    {
        var token = BearerToken.FromValue(A, "Gateway");
        var tooShort = Assert.Throws<ArgumentException>(() => BearerToken.Resolve("short-secret", null, "Gateway"));

        Assert.DoesNotContain(A, token.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret", tooShort.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Token", tooShort.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_IsNullWhenNothingIsSet_AndRefusesBothAtOnce()
    {
        Assert.Null(BearerToken.Resolve("", "", "Worker"));
        var both = Assert.Throws<ArgumentException>(() => BearerToken.Resolve(A, Path.Combine(_dir, "t"), "Worker"));
        Assert.Contains("Worker:Token and Worker:TokenFile", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NamesAMissingOrEmptyFile()
    {
        var path = Path.Combine(_dir, "token");
        Assert.Contains(path, Assert.Throws<ArgumentException>(() => BearerToken.Resolve(null, path, "Gateway")).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "\n\n");
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => BearerToken.Resolve(null, path, "Gateway")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenFile_IsReReadWhenItChanges_SoATokenRotatesWithoutARestart()
    {
        var path = Path.Combine(_dir, "token");
        File.WriteAllText(path, A + "\n");
        var gateway = BearerToken.Resolve(null, path, "Gateway")!;
        var client = BearerToken.Resolve(null, path, "Worker")!;
        Assert.Equal("Bearer " + A, client.AuthorizationValue());

        File.WriteAllText(path, B + "\n" + A + "\n"); // new token first (clients send it), the old one still accepted
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        Assert.Equal("Bearer " + B, client.AuthorizationValue());
        Assert.True(gateway.Accepts("Bearer " + A));
        Assert.True(gateway.Accepts("Bearer " + B));
    }

    [Fact]
    public async Task ATokenFileOfAMountedSecret_IsReReadWhenTheKubeletSwapsItsDataDirectory()
    {
        // The kubelet's layout: token -> ..data/token, ..data -> ..<timestamp>/; an update writes a new timestamped
        // directory and re-points ..data, so neither the 'token' link nor its path's own time changes.
        var first = Directory.CreateDirectory(Path.Combine(_dir, "..2024_01_01_00_00_00.1")).FullName;
        File.WriteAllText(Path.Combine(first, "token"), A + "\n");
        File.SetLastWriteTimeUtc(Path.Combine(first, "token"), new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.CreateSymbolicLink(Path.Combine(_dir, "..data"), first);
        var path = Path.Combine(_dir, "token");
        File.CreateSymbolicLink(path, Path.Combine("..data", "token"));
        var client = BearerToken.Resolve(null, path, "Worker")!;
        Assert.Equal("Bearer " + A, client.AuthorizationValue());

        var second = Directory.CreateDirectory(Path.Combine(_dir, "..2024_01_01_00_01_00.2")).FullName;
        File.WriteAllText(Path.Combine(second, "token"), B + "\n");
        var swap = Path.Combine(_dir, "..data_tmp");
        File.CreateSymbolicLink(swap, second);
        using (var mv = System.Diagnostics.Process.Start("mv", ["-T", swap, Path.Combine(_dir, "..data")])) // rename(2), as the kubelet does
            await mv.WaitForExitAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        Assert.Equal("Bearer " + B, client.AuthorizationValue());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
