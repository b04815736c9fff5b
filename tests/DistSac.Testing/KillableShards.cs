namespace DistSac.Testing;

/// <summary>
/// The shards of a shard-outage test: real redis-servers (<see cref="RedisServer"/>), any of which the test kills
/// (SIGKILL) and restarts at its old address, empty or from its append-only file. Dispose kills whatever still runs and
/// deletes what the set created, the append-only folders included, however the test ended.
/// </summary>
public sealed class KillableShards : IAsyncDisposable
{
    private readonly RedisServer?[] _servers;
    private readonly string?[] _appendOnlyDirectories;

    private KillableShards(int count)
    {
        _servers = new RedisServer?[count];
        _appendOnlyDirectories = new string?[count];
    }

    /// <summary>The shards as they run now, in shard order (a restarted shard is its new server).</summary>
    public IReadOnlyList<RedisServer> Servers
    {
        get
        {
            var servers = new RedisServer[_servers.Length];
            for (int i = 0; i < servers.Length; i++) servers[i] = this[i];
            return servers;
        }
    }

    /// <summary>Shard <paramref name="shard"/>'s current server (killed or not).</summary>
    public RedisServer this[int shard] => _servers[shard] ?? throw new InvalidOperationException($"shard {shard} did not start");

    /// <summary>Starts <paramref name="count"/> shards, persistence off unless listed in <paramref name="appendOnly"/>.</summary>
    /// <param name="appendOnly">
    /// Shards that keep an append-only file (appendfsync everysec) in a folder of the set's own, so that a restart brings
    /// back what was synced before the kill.
    /// </param>
    public static async Task<KillableShards> StartAsync(int count, IReadOnlyCollection<int>? appendOnly = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var shards = new KillableShards(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (appendOnly?.Contains(i) == true)
                    shards._appendOnlyDirectories[i] = Directory.CreateTempSubdirectory($"distsac-shard{i}-aof-").FullName;
                shards._servers[i] = await RedisServer.StartAsync(appendOnlyDirectory: shards._appendOnlyDirectories[i]).ConfigureAwait(false);
            }
            return shards;
        }
        catch
        {
            await shards.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>SIGKILL of shard <paramref name="shard"/>: no shutdown, no save.</summary>
    public Task KillAsync(int shard) => this[shard].KillAsync();

    /// <summary>
    /// Kills shard <paramref name="shard"/> if it still runs, then starts a new server at its port: empty, or from its
    /// append-only file. Returns the new server (also <c>this[shard]</c> from now on).
    /// </summary>
    public async Task<RedisServer> RestartAsync(int shard)
    {
        var old = this[shard];
        int port = old.Port;
        _servers[shard] = null;
        await old.DisposeAsync().ConfigureAwait(false);
        var restarted = await RedisServer.StartAsync(port: port, appendOnlyDirectory: _appendOnlyDirectories[shard]).ConfigureAwait(false);
        _servers[shard] = restarted;
        return restarted;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < _servers.Length; i++)
        {
            if (_servers[i] is { } server)
            {
                _servers[i] = null;
                await server.DisposeAsync().ConfigureAwait(false);
            }
            if (_appendOnlyDirectories[i] is { } aof)
            {
                _appendOnlyDirectories[i] = null;
                Directory.Delete(aof, recursive: true);
            }
        }
    }
}
