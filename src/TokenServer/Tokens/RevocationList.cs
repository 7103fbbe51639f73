using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TokenServer.Tokens;

/// <summary>
/// Revoked sessions and access-token ids, in memory, so checking a presented token costs no
/// store round trip. Revocations made here are added at once; those made by other instances
/// arrive through <see cref="StoreChangeSync"/> within one poll interval. An entry is kept only
/// while a token it covers could still be valid.
/// </summary>
public sealed class RevocationList(TimeProvider time)
{
    private readonly RevokedIdSet sessions = new();
    private readonly RevokedIdSet tokens = new();

    public bool IsRevoked(string? sessionId, string? jti) =>
        (sessionId is not null && sessions.Contains(sessionId)) || (jti is not null && tokens.Contains(jti));

    public void AddSession(string sessionId, DateTimeOffset keepUntil) => sessions.Add(sessionId, keepUntil);

    public void AddToken(string jti, DateTimeOffset keepUntil) => tokens.Add(jti, keepUntil);

    /// <summary>Adds revocations read from the store (at start, possibly a million), merged once.</summary>
    public Task AddSessionsAsync(IAsyncEnumerable<(string Id, DateTimeOffset KeepUntil)> revoked, CancellationToken cancellationToken) =>
        sessions.AddManyAsync(revoked, cancellationToken);

    /// <inheritdoc cref="AddSessionsAsync"/>
    public Task AddTokensAsync(IAsyncEnumerable<(string Id, DateTimeOffset KeepUntil)> revoked, CancellationToken cancellationToken) =>
        tokens.AddManyAsync(revoked, cancellationToken);

    public void Prune()
    {
        var now = time.GetUtcNow();
        sessions.Prune(now);
        tokens.Prune(now);
    }
}

/// <summary>
/// A set of ids, each kept until a time, that stays small and fast at a million entries (issue
/// 7: a million revoked token ids in the store). Session ids and jtis minted here are 16 random
/// bytes in base64url; those are kept as 128-bit numbers in a sorted array (24 bytes an entry,
/// a binary search to look up), with the latest additions in a dictionary beside it that is
/// merged into the array in the background. Any other id (none is minted here) is kept as is.
/// </summary>
internal sealed class RevokedIdSet
{
    // Additions wait in the dictionary until a sweep merges them, or until this many have
    // gathered (a bulk load at start) and the adding thread merges them itself.
    private const int MergeAt = 65_536;
    private const int SweepMergeAt = 4_096;
    private static readonly TimeSpan SweepExpiredEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<UInt128, long> recent = new();
    private readonly ConcurrentDictionary<string, long> other = new(StringComparer.Ordinal);
    private readonly Lock merging = new();
    private volatile Sorted sorted = Sorted.Empty;
    private DateTimeOffset nextExpirySweep = DateTimeOffset.MinValue;

    // Additions since the last merge; ConcurrentDictionary.Count would take every lock.
    private int unmerged;

    /// <summary>Ids held now, expired ones not yet swept included.</summary>
    public int Count => sorted.Keys.Length + recent.Count + other.Count;

    public bool Contains(string id) =>
        TryCompact(id, out var key) ? recent.ContainsKey(key) || sorted.Contains(key) : other.ContainsKey(id);

    public void Add(string id, DateTimeOffset keepUntil)
    {
        if (!TryCompact(id, out var key))
        {
            other[id] = keepUntil.UtcTicks;
            return;
        }

        recent[key] = keepUntil.UtcTicks;
        if (Interlocked.Increment(ref unmerged) >= MergeAt)
        {
            Merge(expiredBefore: null);
        }
    }

    /// <summary>
    /// Adds ids read from the store. A poll re-reads the last seconds' rows, so ids already held
    /// are skipped; a bulk load (at start, possibly a million) is merged into the array at once,
    /// a poll's few new ids wait in the dictionary like single additions.
    /// </summary>
    public async Task AddManyAsync(IAsyncEnumerable<(string Id, DateTimeOffset KeepUntil)> ids, CancellationToken cancellationToken)
    {
        var batch = new List<KeyValuePair<UInt128, long>>();
        await foreach (var (id, keepUntil) in ids.WithCancellation(cancellationToken))
        {
            if (!TryCompact(id, out var key))
            {
                other[id] = keepUntil.UtcTicks;
            }
            else if (!recent.ContainsKey(key) && !sorted.Contains(key))
            {
                batch.Add(KeyValuePair.Create(key, keepUntil.UtcTicks));
            }
        }

        if (batch.Count < MergeAt)
        {
            foreach (var (key, keepUntil) in batch)
            {
                recent[key] = keepUntil;
                Interlocked.Increment(ref unmerged);
            }

            return;
        }

        lock (merging)
        {
            MergeLocked([.. batch], expiredBefore: null);
        }
    }

    /// <summary>Merges recent additions, and once a minute drops what has expired.</summary>
    public void Prune(DateTimeOffset now)
    {
        if (now >= nextExpirySweep)
        {
            nextExpirySweep = now + SweepExpiredEvery;
            Merge(now.UtcTicks);
            foreach (var (id, until) in other)
            {
                if (until <= now.UtcTicks)
                {
                    other.TryRemove(KeyValuePair.Create(id, until));
                }
            }
        }
        else if (Volatile.Read(ref unmerged) >= SweepMergeAt)
        {
            Merge(expiredBefore: null);
        }
    }

    private void Merge(long? expiredBefore)
    {
        lock (merging)
        {
            Volatile.Write(ref unmerged, 0);
            var batch = recent.ToArray();
            MergeLocked(batch, expiredBefore);

            // Only what was merged leaves the dictionary; an id re-added meanwhile stays.
            foreach (var entry in batch)
            {
                recent.TryRemove(entry);
            }
        }
    }

    /// <summary>Publishes a new sorted array: the old one and the batch, without duplicates or (if asked) what has expired.</summary>
    private void MergeLocked(KeyValuePair<UInt128, long>[] batch, long? expiredBefore)
    {
        Array.Sort(batch, static (a, b) => a.Key.CompareTo(b.Key));
        var old = sorted;
        var keys = new UInt128[old.Keys.Length + batch.Length];
        var until = new long[keys.Length];
        int i = 0, j = 0, n = 0;
        while (i < old.Keys.Length || j < batch.Length)
        {
            UInt128 key;
            long keep;
            if (j == batch.Length || (i < old.Keys.Length && old.Keys[i] < batch[j].Key))
            {
                (key, keep) = (old.Keys[i], old.Until[i]);
                i++;
            }
            else
            {
                (key, keep) = (batch[j].Key, batch[j].Value);
                j++;
            }

            if (expiredBefore is { } now && keep <= now)
            {
                continue;
            }

            if (n > 0 && keys[n - 1] == key)
            {
                until[n - 1] = Math.Max(until[n - 1], keep);
                continue;
            }

            (keys[n], until[n]) = (key, keep);
            n++;
        }

        Array.Resize(ref keys, n);
        Array.Resize(ref until, n);
        sorted = new Sorted(keys, until);
    }

    /// <summary>The 16 bytes of a canonical 22-character base64url id.</summary>
    private static bool TryCompact(string id, out UInt128 key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[16];
        Span<char> canonical = stackalloc char[22];
        if (id.Length != 22
            || System.Buffers.Text.Base64Url.DecodeFromChars(id, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 16
            || !System.Buffers.Text.Base64Url.TryEncodeToChars(bytes, canonical, out _) || !canonical.SequenceEqual(id))
        {
            return false;
        }

        key = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(bytes);
        return true;
    }

    private sealed record Sorted(UInt128[] Keys, long[] Until)
    {
        public static readonly Sorted Empty = new([], []);

        public bool Contains(UInt128 key) => Array.BinarySearch(Keys, key) >= 0;
    }
}

/// <summary>When this instance last read the store's revocations and account changes.</summary>
internal sealed class StoreSyncStatus
{
    private long lastSyncedTicks = DateTimeOffset.MinValue.UtcTicks;

    public DateTimeOffset LastSynced => new(Interlocked.Read(ref lastSyncedTicks), TimeSpan.Zero);

    internal void Synced(DateTimeOffset at) => Interlocked.Exchange(ref lastSyncedTicks, at.UtcTicks);
}

/// <summary>
/// Unhealthy while the store poll keeps failing: such an instance would go on accepting tokens
/// that other instances have revoked, so the health route (503) tells the load balancer to stop
/// sending it requests until the poll succeeds again.
/// </summary>
internal sealed class StoreSyncHealthCheck(StoreSyncStatus status, IOptions<TokenOptions> options, TimeProvider time) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var limit = TimeSpan.FromTicks(Math.Max(options.Value.RevocationPollInterval.Ticks * 20, TimeSpan.FromSeconds(10).Ticks));
        var age = time.GetUtcNow() - status.LastSynced;
        return Task.FromResult(age <= limit
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"Revocations made by other instances have not been read from the store for {age}."));
    }
}
