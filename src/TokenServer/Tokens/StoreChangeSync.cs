using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using TokenServer.Store;

namespace TokenServer.Tokens;

/// <summary>
/// Fills the revocation list at start, then polls the store for what other instances changed:
/// revocations (<see cref="RevocationEvent"/>: added to the list, or for a withdrawn key a
/// reload of the key ring) and account changes (told to every <see cref="IAccountChangeObserver"/>).
/// Both are read by the number the store gave each row, never by an instance's clock, so a row
/// that commits late or comes from an instance whose clock lags is still read
/// (docs/security.md, "Revocations reach every instance"). On PostgreSQL it also listens on the
/// channel that every save of a revocation or an account change notifies
/// (<see cref="PostgresTokenServerDb.ChangesChannel"/>) and reads the store as soon as one
/// arrives; the poll stays, as the fallback, and each new listening connection is followed by a
/// read of what was stored while none was open.
/// </summary>
internal sealed class StoreChangeSync(
    RevocationList list,
    SigningKeyRing keys,
    IEnumerable<IAccountChangeObserver> accountObservers,
    StoreSyncStatus status,
    IServiceScopeFactory scopes,
    IOptions<TokenOptions> options,
    TimeProvider time,
    ILogger<StoreChangeSync> logger) : BackgroundService
{
    // Polls further apart than this (the store was unreachable) might have missed account
    // changes that were pruned meanwhile, so every cached profile is forgotten.
    private static readonly TimeSpan MaxGap = AccountChange.Retention / 2;

    private readonly SequenceCursor revocationCursor = new();
    private readonly SequenceCursor changeCursor = new();
    private DateTimeOffset lastSync = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>How long to poll alone after the listening connection failed before listening again.</summary>
    internal static readonly TimeSpan ListenRetryDelay = TimeSpan.FromSeconds(5);

    // What wakes the sync: the poll's ticks (true: also prune) and the store's notifications
    // (false). One pending wake-up stands for any number, since one read catches up on all.
    private readonly Channel<bool> wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ticking = TickAsync(stoppingToken);
        var listening = ListenAsync(stoppingToken);
        await foreach (var tick in wakeUps.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await SyncAsync(stoppingToken);
                if (tick)
                {
                    list.Prune();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Revocation sync failed; retrying at the next tick");
            }
        }

        await Task.WhenAll(ticking, listening);
    }

    private async Task TickAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationPollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            wakeUps.Writer.TryWrite(true);
        }
    }

    /// <summary>PostgreSQL's LISTEN on one connection of its own, opened again whenever it fails.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            if (scope.ServiceProvider.GetRequiredService<TokenServerDb>() is not PostgresTokenServerDb db)
            {
                return;
            }

            // Not pooled, so it never serves a query; keepalives notice a connection that died silently.
            connectionString = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false, KeepAlive = 30 }.ConnectionString;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, _) => wakeUps.Writer.TryWrite(false);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand("LISTEN " + PostgresTokenServerDb.ChangesChannel, connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever was stored while nothing listened is read now.
                wakeUps.Writer.TryWrite(false);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Listening for store changes failed; polling alone, listening again in {Delay}", ListenRetryDelay);
                await Task.Delay(ListenRetryDelay, time, stoppingToken);
            }
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var starting = lastSync == DateTimeOffset.MinValue;
        if (starting)
        {
            await StartCursorsAsync(db, now, cancellationToken);
        }

        var events = await db.RevocationEvents.AsNoTracking()
            .Where(e => e.Id > revocationCursor.ReadAfter)
            .OrderBy(e => e.Id)
            .Select(e => new { e.Id, e.Kind, e.Subject, e.KeepUntil })
            .ToListAsync(cancellationToken);
        var reloadKeys = false;
        foreach (var e in events.Where(e => revocationCursor.IsNew(e.Id, now)))
        {
            switch (e.Kind)
            {
                case RevocationKinds.Session:
                    list.AddSession(e.Subject, e.KeepUntil);
                    break;
                case RevocationKinds.Token:
                    list.AddToken(e.Subject, e.KeepUntil);
                    break;
                case RevocationKinds.Key:
                    reloadKeys = true;
                    break;
            }
        }

        if (reloadKeys)
        {
            await keys.ReloadAsync(cancellationToken);
        }

        if (starting)
        {
            // The whole state, streamed: at start this may be a million rows.
            await list.AddSessionsAsync(
                db.Sessions.AsNoTracking()
                    .Where(s => s.RevokedAt != null && s.ExpiresAt > now)
                    .Select(s => new { s.Id, s.ExpiresAt })
                    .AsAsyncEnumerable()
                    .Select(s => (s.Id, s.ExpiresAt)),
                cancellationToken);
            await list.AddTokensAsync(
                db.RevokedTokens.AsNoTracking()
                    .Where(t => t.ExpiresAt > now)
                    .Select(t => new { t.Jti, t.ExpiresAt })
                    .AsAsyncEnumerable()
                    .Select(t => (t.Jti, t.ExpiresAt)),
                cancellationToken);
        }

        await ForgetChangedAccountsAsync(db, now, starting, cancellationToken);
        revocationCursor.ExpireGaps(now);
        changeCursor.ExpireGaps(now);
        lastSync = now;
        status.Synced(now);
    }

    /// <summary>
    /// Where each sequence stands at start: after the rows older than a minute. The rows of the
    /// last minute are read at the first poll, so a number missing among them (a transaction
    /// that had taken its number but not yet committed) is watched for until it commits.
    /// </summary>
    private async Task StartCursorsAsync(TokenServerDb db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recent = now - SequenceCursor.GapLifetime;
        revocationCursor.StartAfter(await db.RevocationEvents.Where(e => e.At < recent).MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0);
        changeCursor.StartAfter(await db.AccountChanges.Where(c => c.ChangedAt < recent).MaxAsync(c => (long?)c.Id, cancellationToken) ?? 0);
    }

    private async Task ForgetChangedAccountsAsync(TokenServerDb db, DateTimeOffset now, bool starting, CancellationToken cancellationToken)
    {
        if (!starting && now - lastSync > MaxGap)
        {
            Forget(null);
        }

        var changes = await db.AccountChanges.AsNoTracking()
            .Where(c => c.Id > changeCursor.ReadAfter)
            .OrderBy(c => c.Id)
            .Select(c => new { c.Id, c.AccountId })
            .ToListAsync(cancellationToken);
        foreach (var c in changes.Where(c => changeCursor.IsNew(c.Id, now)))
        {
            // Starting: nothing is cached yet, so only the cursor moves.
            if (!starting)
            {
                Forget(c.AccountId);
            }
        }
    }

    private void Forget(long? accountId)
    {
        foreach (var observer in accountObservers)
        {
            observer.Forget(accountId);
        }
    }
}

/// <summary>
/// How far a poller has read a store-numbered sequence (an identity column). Numbers are taken
/// when a row is inserted but become visible when its transaction commits, so on PostgreSQL a
/// lower number can appear after a higher one has been read. A number skipped over is kept as
/// a gap and read again at every poll until its row appears, or until <see cref="GapLifetime"/>
/// has passed (a rolled-back transaction leaves its number unused for ever).
/// </summary>
internal sealed class SequenceCursor
{
    public static readonly TimeSpan GapLifetime = TimeSpan.FromMinutes(1);

    // A burst of rolled-back inserts must not make the gap list unbounded.
    private const int MaxGaps = 10_000;

    private readonly Dictionary<long, DateTimeOffset> gaps = [];
    private long high;

    /// <summary>Read the rows numbered above this.</summary>
    public long ReadAfter => gaps.Count == 0 ? high : Math.Min(high, gaps.Keys.Min() - 1);

    public void StartAfter(long id) => high = id;

    /// <summary>Whether a row read now is one not acted on before; numbers it skips become gaps.</summary>
    public bool IsNew(long id, DateTimeOffset now)
    {
        if (id > high)
        {
            for (var missing = Math.Max(high + 1, id - MaxGaps); missing < id && gaps.Count < MaxGaps; missing++)
            {
                gaps.TryAdd(missing, now);
            }

            high = id;
            return true;
        }

        return gaps.Remove(id);
    }

    public void ExpireGaps(DateTimeOffset now)
    {
        foreach (var (id, since) in gaps)
        {
            if (now - since > GapLifetime)
            {
                gaps.Remove(id);
            }
        }
    }
}
