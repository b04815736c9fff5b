using System.Net;
using DistSac.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker.Tests;

/// <summary>
/// Real Kestrel (HTTP/2 without TLS) on 127.0.0.1 hosting a <see cref="TestGateway"/>. The first start binds port
/// 0; <see cref="StopAsync"/> and <see cref="StartAsync"/> then take the gateway away and bring it back on the same
/// port, as a restarted gateway pod behind a Service would.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private WebApplication? _app;

    private GatewayServer(TestGateway gateway) => Gateway = gateway;

    public TestGateway Gateway { get; }

    public int Port { get; private set; }

    public string Address => $"http://127.0.0.1:{Port}";

    public static async Task<GatewayServer> StartNewAsync(TestGateway gateway)
    {
        var server = new GatewayServer(gateway);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The server is already running.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = ProtocolLimits.MaxMessageBytes;
            o.MaxSendMessageSize = ProtocolLimits.MaxMessageBytes;
        });
        builder.Services.AddSingleton(Gateway);
        var app = builder.Build();
        app.MapGrpcService<TestGateway>();
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Port = new Uri(addresses.First()).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            Gateway.AbortStreams();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Gateway.Dispose();
    }
}
