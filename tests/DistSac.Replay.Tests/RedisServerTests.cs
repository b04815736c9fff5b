using System.Net.Sockets;
using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Replay.Tests;

public sealed class RedisServerTests
{
    [Fact]
    public async Task A_started_server_answers_ping_and_is_gone_after_dispose()
    {
        var server = await RedisServer.StartAsync();
        int port = server.Port;
        Assert.Equal($"127.0.0.1:{port}", server.Endpoint);
        await using (var mux = await ConnectionMultiplexer.ConnectAsync(server.Endpoint))
        {
            var pong = await mux.GetDatabase().PingAsync();
            Assert.True(pong >= TimeSpan.Zero);
        }
        await server.DisposeAsync();
        Assert.False(server.IsRunning);
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
    }

    [Fact]
    public async Task A_password_protected_server_serves_clients_that_authenticate()
    {
        await using var server = await RedisServer.StartAsync(password: "s3cret");
        var options = ConfigurationOptions.Parse(server.Endpoint);
        options.Password = "s3cret";
        await using var mux = await ConnectionMultiplexer.ConnectAsync(options);
        await mux.GetDatabase().StringSetAsync("k", "v");
        Assert.Equal("v", (string?)await mux.GetDatabase().StringGetAsync("k"));
    }

    [Fact]
    public async Task Killing_the_server_ends_its_process()
    {
        await using var server = await RedisServer.StartAsync();
        await server.KillAsync();
        Assert.True(server.Process.HasExited);
        Assert.False(server.IsRunning);
    }
}
