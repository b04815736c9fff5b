using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>One Redis instance of the replay: its connection, its precomputed keys and its loaded insert script.</summary>
internal sealed class ReplayShard : IAsyncDisposable
{
    private byte[]? _insertSha;

    private ReplayShard(int index, string endpoint, ConnectionMultiplexer connection, string runId)
    {
        Index = index;
        Endpoint = endpoint;
        Connection = connection;
        Database = connection.GetDatabase();
        Data = RunKeys.ShardData(runId, index);
        State = RunKeys.ShardState(runId, index);
        Sequences = RunKeys.ShardSequences(runId, index);
        WorkerCounts = RunKeys.ShardWorkerCounts(runId, index);
        InsertKeys = [Data, State, Sequences, WorkerCounts];
        InsertedChannel = RunKeys.ShardInsertedChannel(runId, index);
    }

    public int Index { get; }
    public string Endpoint { get; }
    public ConnectionMultiplexer Connection { get; }
    public IDatabase Database { get; }
    public RedisKey Data { get; }
    public RedisKey State { get; }
    public RedisKey Sequences { get; }
    public RedisKey WorkerCounts { get; }
    public RedisKey[] InsertKeys { get; }
    /// <summary>The channel the insert script PUBLISHes the shard's total on (an ARGV: channels are not keys).</summary>
    public RedisValue InsertedChannel { get; }

    public static async Task<ReplayShard> ConnectAsync(int index, string endpoint, ReplayOptions options, ShardReaderThreads readers, CancellationToken ct)
    {
        var config = new ConfigurationOptions
        {
            // Fail the first connect loudly; once connected the multiplexer reconnects by itself.
            AbortOnConnectFail = true,
            ConnectRetry = 2,
            ConnectTimeout = options.ConnectTimeoutMs,
            Password = options.ResolvePassword(),
            User = string.IsNullOrEmpty(options.User) ? null : options.User,
            ClientName = $"distsac-{options.RunId}-shard{index}",
            // While a shard is down, fail commands at once (ReplayUnavailableException) instead of queueing them until
            // the timeout: the gateway answers Unavailable and the worker retries (pushes are idempotent), the
            // prefetcher backs off and retries.
            BacklogPolicy = BacklogPolicy.FailFast,
            // Null: StackExchange.Redis's shared dedicated reader threads.
            SocketManager = readers == ShardReaderThreads.ThreadPool ? SocketManager.ThreadPool : null,
        };
        try
        {
            config.EndPoints.Add(endpoint);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"replay shard {index} endpoint '{endpoint}' is not host:port ({ex.Message}).", ex);
        }
        var connecting = ConnectionMultiplexer.ConnectAsync(config);
        try
        {
            var connection = await connecting.WaitAsync(ct).ConfigureAwait(false);
            await WaitForSubscriberConnectionAsync(connection, TimeSpan.FromMilliseconds(options.ConnectTimeoutMs), ct).ConfigureAwait(false);
            return new ReplayShard(index, endpoint, connection, options.RunId);
        }
        catch (OperationCanceledException)
        {
            // The connect keeps running after the caller gave up; close what it opens.
            _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        catch (RedisConnectionException ex)
        {
            throw new ReplayUnavailableException(endpoint, index,
                $"replay shard {index} at {endpoint} is unreachable: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) for the multiplexer's second, pub/sub connection. StackExchange.Redis's
    /// connect can return once the command connection is up (when it is up before the connect checks, it does not wait
    /// for the other), and with <see cref="BacklogPolicy.FailFast"/> a SUBSCRIBE sent before the pub/sub connection is
    /// up fails at once ("No connection is active/available"). Seen in 1-5% of connects on a loaded 2-core machine,
    /// more often when the thread pool, busy starting Kestrel, read the replies. Past the timeout the connect still
    /// succeeds: subscribers retry, and commands do not need this connection.
    /// </summary>
    private static async Task WaitForSubscriberConnectionAsync(ConnectionMultiplexer connection, TimeSpan timeout, CancellationToken ct)
    {
        var subscriber = connection.GetSubscriber();
        if (subscriber.IsConnected()) return;
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<ConnectionFailedEventArgs> restored = (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription) up.TrySetResult();
        };
        connection.ConnectionRestored += restored;
        try
        {
            // The event may have been raised before the handler was attached: check again now that it is.
            if (!subscriber.IsConnected()) await up.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            connection.ConnectionRestored -= restored;
        }
    }

    /// <summary>SCRIPT LOAD of the insert script (idempotent; a restarted shard needs it again).</summary>
    public async Task LoadScriptAsync(CancellationToken ct)
    {
        var server = Connection.GetServer(Connection.GetEndPoints()[0]);
        _insertSha = await Guard(server.ScriptLoadAsync(InsertScript.Text), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the insert script, loading it first when unknown or when the shard forgot it (restart, SCRIPT FLUSH). A
    /// failure before the script was sent (the connection is known to be down, or loading the script failed) is a
    /// <see cref="ReplayUnavailableException"/> with <see cref="ReplayUnavailableException.NotSent"/>: certainly not stored.
    /// Any failure after sending (lost connection, timeout) may have stored it and is not marked.
    /// </summary>
    public async Task<RedisResult> EvalInsertAsync(RedisValue[] args, CancellationToken ct)
    {
        // The multiplexer marks the connection failed as soon as the socket closes; with FailFast nothing is queued.
        if (!Connection.IsConnected)
            throw NotSent(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "not connected; the insert was not sent"));
        if (_insertSha is null)
            await LoadScriptNotSentAsync(ct).ConfigureAwait(false);
        try
        {
            return await Guard(Database.ScriptEvaluateAsync(_insertSha!, InsertKeys, args), ct).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // NOSCRIPT: the script did not run; reloading it stores nothing either.
            await LoadScriptNotSentAsync(ct).ConfigureAwait(false);
            return await Guard(Database.ScriptEvaluateAsync(_insertSha!, InsertKeys, args), ct).ConfigureAwait(false);
        }
    }

    /// <summary>SCRIPT LOAD before an insert was sent: a connection failure here means the insert was not sent.</summary>
    private async Task LoadScriptNotSentAsync(CancellationToken ct)
    {
        try
        {
            await LoadScriptAsync(ct).ConfigureAwait(false);
        }
        catch (ReplayUnavailableException ex)
        {
            throw NotSent(ex.InnerException ?? ex);
        }
    }

    private ReplayUnavailableException NotSent(Exception ex) =>
        new(Endpoint, Index, $"replay shard {Index} at {Endpoint} is unavailable (nothing was sent to it): {ex.Message}", ex) { NotSent = true };

    /// <summary>Awaits a command, honouring the token and turning connection loss into <see cref="ReplayUnavailableException"/>.</summary>
    public async Task<T> Guard<T>(Task<T> command, CancellationToken ct)
    {
        try
        {
            return ct.CanBeCanceled ? await command.WaitAsync(ct).ConfigureAwait(false) : await command.ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            throw Unavailable(ex);
        }
        catch (RedisTimeoutException ex)
        {
            throw Unavailable(ex);
        }
    }

    /// <inheritdoc cref="Guard{T}(Task{T}, CancellationToken)"/>
    public async Task Guard(Task command, CancellationToken ct)
    {
        try
        {
            if (ct.CanBeCanceled) await command.WaitAsync(ct).ConfigureAwait(false);
            else await command.ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            throw Unavailable(ex);
        }
        catch (RedisTimeoutException ex)
        {
            throw Unavailable(ex);
        }
    }

    public ReplayUnavailableException Unavailable(Exception ex) =>
        new(Endpoint, Index, $"replay shard {Index} at {Endpoint} is unavailable: {ex.Message}", ex);

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync().ConfigureAwait(false);
}
