using DistSac.Protocol;
using DistSac.Replay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Gateway;

/// <summary>
/// One running gateway: Kestrel serving <see cref="ReplayGatewayService"/> over HTTP/2 (cleartext, or TLS with
/// <see cref="GatewayTls"/>), connected to the shards.
/// Built on an empty WebApplication builder so nothing but the given options configures it (no appsettings.json,
/// no ASPNETCORE_URLS surprises); the generic host's console lifetime turns SIGTERM / Ctrl-C into a graceful stop.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ShardedReplay _replay;
    private int _disposed;

    private GatewayHost(WebApplication app, ShardedReplay replay, GatewayCounters counters, Uri address, Uri? httpAddress)
    {
        _app = app;
        _replay = replay;
        Counters = counters;
        Address = address;
        HttpAddress = httpAddress;
    }

    /// <summary>
    /// An address to connect to, e.g. http://127.0.0.1:41234 (the real port when Listen asked for port 0); a wildcard
    /// bind (0.0.0.0, [::]) is given as localhost here, while the start-up log states the real binding.
    /// </summary>
    public Uri Address { get; }

    /// <summary>The bound probe address (/healthz, /readyz, /metrics); null when Gateway:HttpListen is empty.</summary>
    public Uri? HttpAddress { get; }

    public GatewayCounters Counters { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The TLS of the gRPC endpoint; null when it serves cleartext.</summary>
    public GatewayTls? Tls { get; private init; }

    /// <summary>Connects to the shards, binds the listen address and starts serving; returns once requests are accepted.</summary>
    /// <param name="loggerFactory">Where the gateway logs (owned by the caller; dispose it after the host); null logs nothing.</param>
    public static async Task<GatewayHost> StartAsync(GatewayOptions gateway, ReplayOptions replay, ILoggerFactory? loggerFactory = null,
        CancellationToken ct = default)
    {
        gateway.Validate();
        var listen = ListenAddress.Parse(gateway.Listen);
        var token = GatewayAuthentication.Resolve(gateway, listen);
        loggerFactory ??= NullLoggerFactory.Instance;
        var tls = GatewayTls.Resolve(gateway, listen, loggerFactory.CreateLogger<GatewayTls>());
        ListenAddress? httpListen = string.IsNullOrEmpty(gateway.HttpListen)
            ? null
            : ListenAddress.Parse(gateway.HttpListen, $"{GatewayOptions.Section}:{nameof(GatewayOptions.HttpListen)}");
        if (httpListen is { Https: true })
            throw new ArgumentException($"Gateway:HttpListen '{gateway.HttpListen}': the probe endpoint serves plain HTTP/1.1 (probes and scrapers); use http:// and restrict it by network.");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(GatewayHost).Assembly.GetName().Name });
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Detects workers that vanished without closing their WatchWeights stream (node loss behind a Service).
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
            Action<ListenOptions> http2 = o =>
            {
                o.Protocols = HttpProtocols.Http2;
                tls?.Apply(o);
            };
            if (listen.IsLocalhost) kestrel.ListenLocalhost(listen.Port, http2);
            else kestrel.Listen(listen.Address!, listen.Port, http2);
            // Probes and Prometheus speak HTTP/1.1: a second endpoint, bound after the gRPC one (BoundAddress relies on the order).
            Action<ListenOptions> http1 = o => o.Protocols = HttpProtocols.Http1;
            if (httpListen is { IsLocalhost: true } h) kestrel.ListenLocalhost(h.Port, http1);
            else if (httpListen is { } a) kestrel.Listen(a.Address!, a.Port, http1);
        });

        var logger = loggerFactory.CreateLogger<GatewayHost>();
        var shards = await ShardedReplay.ConnectAsync(replay, loggerFactory.CreateLogger<ShardedReplay>(), gateway.RedisReplyThreads, ct).ConfigureAwait(false);
        var counters = new GatewayCounters();
        try
        {
            AddGatewayServices(builder.Services, gateway, replay, shards, counters);
            if (token is not null)
            {
                // One instance (resolved from DI) so its refusal count and log throttle span all calls.
                builder.Services.AddSingleton(sp => new BearerTokenInterceptor(token, sp.GetRequiredService<ILogger<BearerTokenInterceptor>>()));
                builder.Services.AddGrpc().AddServiceOptions<ReplayGatewayService>(o => o.Interceptors.Add<BearerTokenInterceptor>());
            }
            var app = builder.Build();
            if (httpListen is not null)
            {
                var probe = app.Services.GetRequiredService<GatewayProbeEndpoint>();
                app.MapWhen(GatewayProbeEndpoint.Accepts, branch => branch.Run(probe.HandleAsync));
            }
            app.MapGrpcService<ReplayGatewayService>();
            app.MapGrpcHealthChecksService();
            await app.StartAsync(ct).ConfigureAwait(false);
            var address = BoundAddress(app, listen, 0);
            var httpAddress = httpListen is { } hl ? BoundAddress(app, hl, 1) : null;
            // The addresses Kestrel really bound (e.g. http://0.0.0.0:50051 means every interface), not a connectable alias.
            logger.LogInformation("Replay gateway for run {RunId} bound to {Bound} ({Reach}; {Shards} shards, rate limit from the learner's run metadata)",
                replay.RunId, RealBinding(app, 0, listen), Reach(listen), replay.Shards.Length);
            if (tls is not null) logger.LogInformation("gRPC over {Tls}", tls.Describe());
            else logger.LogInformation("gRPC over cleartext HTTP/2 (no TLS: set Gateway:TlsCertFile and TlsKeyFile and listen on https:// to encrypt)");
            if (token is not null) logger.LogInformation("gRPC calls need the bearer token from {Origin}", token.Origin);
            else if (!listen.IsLoopback) logger.LogWarning("No token: anyone who reaches {Bound} can push and read weights (Gateway:AllowUnauthenticated=true)", RealBinding(app, 0, listen));
            if (httpListen is { } probes)
                logger.LogInformation("Probes and metrics bound to {Bound} ({Reach}; /healthz, /readyz, /metrics)", RealBinding(app, 1, probes), Reach(probes));
            return new GatewayHost(app, shards, counters, address, httpAddress) { Tls = tls };
        }
        catch
        {
            counters.Dispose();
            await shards.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The `distsac replay` entry point: serve until SIGTERM / Ctrl-C or <paramref name="ct"/>, then stop gracefully.</summary>
    public static async Task RunAsync(GatewayOptions gateway, ReplayOptions replay, ILoggerFactory? loggerFactory, CancellationToken ct)
    {
        await using var host = await StartAsync(gateway, replay, loggerFactory, ct).ConfigureAwait(false);
        await host.WaitForShutdownAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Returns when the host is asked to stop (signal or <paramref name="ct"/>), after it has stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            await _replay.DisposeAsync().ConfigureAwait(false);
            Counters.Dispose();
        }
    }

    private static void AddGatewayServices(IServiceCollection services, GatewayOptions gateway, ReplayOptions replay, ShardedReplay shards, GatewayCounters counters)
    {
        services.AddGrpc(o =>
        {
            // Set from the protocol, never left to gRPC's 4 MB default: a full batch of large records or a big actor must fit.
            o.MaxReceiveMessageSize = ProtocolLimits.MaxMessageBytes;
            o.MaxSendMessageSize = ProtocolLimits.MaxMessageBytes;
        });
        services.AddSingleton(gateway);
        services.AddSingleton(replay);
        services.AddSingleton(shards);
        services.AddSingleton(counters);
        var totals = new ShardTotals(shards);
        services.AddSingleton(_ => new ReplayProgressMonitor(ct => ReadProgressAsync(shards, totals, ct)));
        services.AddSingleton<WeightsFanOut>();
        services.AddSingleton<WorkerRegistry>();
        services.AddSingleton<RunInfoProvider>();
        services.AddSingleton(sp => new InsertAdmission(gateway, sp.GetRequiredService<ReplayProgressMonitor>(), counters));
        services.AddSingleton<PushHandler>();
        services.AddSingleton<MalformedRequestLog>();
        services.AddSingleton<WeightsFollower>();
        services.AddHostedService(sp => sp.GetRequiredService<WeightsFollower>());
        services.AddHostedService<LearnerProgressFollower>();
        services.AddHostedService<GatewayStatusReporter>();
        services.AddSingleton<GatewayReadiness>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<GatewayProbeEndpoint>();
        // grpc.health.v1.Health: SERVING once Redis answers and the run metadata is readable (checked on each Check call).
        services.AddGrpcHealthChecks().AddCheck<GatewayReadiness>("redis");
    }

    private static async Task<ReplayProgress> ReadProgressAsync(ShardedReplay shards, ShardTotals totals, CancellationToken ct)
    {
        var learner = shards.ReadLearnerStateAsync(ct);
        var total = totals.ReadAsync(ct);
        var contract = shards.ReadRateLimitAsync(ct); // the learner's, from the run metadata: one GET on the lowest shard that holds it
        await Task.WhenAll(learner, total, contract).ConfigureAwait(false);
        var l = await learner.ConfigureAwait(false);
        return new ReplayProgress(l.Updates, l.WeightsVersion, await total.ConfigureAwait(false), l.Finished,
            await contract.ConfigureAwait(false));
    }

    /// <summary>The <paramref name="index"/>-th address as Kestrel reports it, unaltered; "localhost" binds both loopback addresses.</summary>
    private static string RealBinding(WebApplication app, int index, ListenAddress listen)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is { Count: > 0 } && index < addresses.Count)
        {
            var a = addresses.ElementAt(index);
            return listen.IsLocalhost ? $"{a} (127.0.0.1 and [::1])" : a;
        }
        var scheme = listen.Https ? "https" : "http";
        return listen.IsLocalhost ? $"{scheme}://localhost:{listen.Port}" : $"{scheme}://{listen.Address}:{listen.Port}";
    }

    private static string Reach(ListenAddress listen) =>
        listen.IsLoopback ? "this machine only" : "reachable from other machines";

    /// <summary>The <paramref name="index"/>-th bound address (0: gRPC, 1: probes), in the order the endpoints were added.</summary>
    private static Uri BoundAddress(WebApplication app, ListenAddress listen, int index)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is { Count: > 0 } && index < addresses.Count)
        {
            var a = addresses.ElementAt(index);
            return new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal));
        }
        return new Uri($"{(listen.Https ? "https" : "http")}://{(listen.IsLocalhost ? "localhost" : listen.Address!.ToString())}:{listen.Port}");
    }
}
