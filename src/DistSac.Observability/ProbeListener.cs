using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DistSac.Observability;

/// <summary>
/// A minimal HTTP/1.1 probe endpoint on <see cref="HttpListener"/> (no ASP.NET Core, so a worker stays small):
/// /healthz (200 while the process runs), /readyz (200 when <c>ready()</c>, else 503) and /metrics (Prometheus text).
/// </summary>
public sealed partial class ProbeListener : IAsyncDisposable
{
    private static readonly byte[] Ok = Encoding.UTF8.GetBytes("ok\n");
    private static readonly byte[] NotReady = Encoding.UTF8.GetBytes("not ready\n");
    private static readonly byte[] NotFound = Encoding.UTF8.GetBytes("not found: use /healthz, /readyz or /metrics\n");

    private readonly HttpListener _listener = new();
    private readonly Func<bool> _ready;
    private readonly CollectorRegistry _registry;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private ProbeListener(string prefix, Func<bool> ready, CollectorRegistry registry, ILogger logger)
    {
        _ready = ready;
        _registry = registry;
        _logger = logger;
        _listener.Prefixes.Add(prefix);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>
    /// Starts listening on <paramref name="listen"/>: "http://127.0.0.1:9092" (this machine only) or, said explicitly,
    /// "http://0.0.0.0:9092" (every interface, e.g. for a Prometheus in another pod).
    /// </summary>
    public static ProbeListener Start(string listen, Func<bool> ready, CollectorRegistry registry, ILogger logger)
    {
        var prefix = Prefix(listen);
        var probes = new ProbeListener(prefix, ready, registry, logger);
        logger.LogInformation("Probes and metrics bound to {Bound} ({Reach}; /healthz, /readyz, /metrics)", listen, Reach(prefix));
        return probes;
    }

    /// <summary>Who can connect to a prefix: "+" is every interface; localhost and 127.x / ::1 are this machine only.</summary>
    public static string Reach(string prefix)
    {
        var host = new Uri(prefix.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal)).Host.Trim('[', ']');
        bool loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
        return loopback ? "this machine only" : "reachable from other machines";
    }

    /// <summary>The HttpListener prefix for an address; "+" is HttpListener's spelling of every interface.</summary>
    public static string Prefix(string listen)
    {
        var match = HostPort().Match(listen ?? "");
        if (!match.Success)
            throw new ArgumentException($"HttpListen '{listen}' is not of the form http://host:port (e.g. http://0.0.0.0:9092).");
        string host = match.Groups["host"].Value;
        if (host is "0.0.0.0" or "[::]" or "*") host = "+";
        return $"http://{host}:{match.Groups["port"].Value}/";
    }

    [GeneratedRegex(@"^http://(?<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):(?<port>\d{1,5})/?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostPort();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException e)
            {
                _logger.LogWarning("Probe listener: {Error}", e.Message);
                continue;
            }
            try
            {
                await AnswerAsync(context).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away mid-answer; nothing to do.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        switch (context.Request.Url?.AbsolutePath)
        {
            case "/healthz":
                await WriteAsync(response, 200, Ok).ConfigureAwait(false);
                break;
            case "/readyz":
                bool ready = _ready();
                await WriteAsync(response, ready ? 200 : 503, ready ? Ok : NotReady).ConfigureAwait(false);
                break;
            case "/metrics":
                response.StatusCode = 200;
                response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await _registry.CollectAndExportAsTextAsync(response.OutputStream, _stop.Token).ConfigureAwait(false);
                break;
            default:
                await WriteAsync(response, 404, NotFound).ConfigureAwait(false);
                break;
        }
    }

    private async Task WriteAsync(HttpListenerResponse response, int status, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        // Abort, not Stop + Close: on Linux each of those unregisters the prefix, and the second unregistration binds
        // the port again, throwing "Address already in use" if another socket took it in between.
        try
        {
            _listener.Abort();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
            _logger.LogWarning("Probe listener: closing it failed: {Error}", e.Message);
        }
        try
        {
            await _serving.ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
