using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Tokens;

/// <summary>
/// Revoked sessions and access-token ids, in memory, so checking a presented token costs no
/// store round trip. Revocations made here are added at once; those made by other instances
/// arrive through <see cref="StoreChangeSync"/> within one poll interval. An entry is kept only
/// while a token it covers could still be valid.
/// </summary>
public sealed class RevocationList(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> tokens = new(StringComparer.Ordinal);

    public bool IsRevoked(string? sessionId, string? jti) =>
        (sessionId is not null && sessions.ContainsKey(sessionId)) || (jti is not null && tokens.ContainsKey(jti));

    public void AddSession(string sessionId, DateTimeOffset keepUntil) => sessions[sessionId] = keepUntil;

    public void AddToken(string jti, DateTimeOffset keepUntil) => tokens[jti] = keepUntil;

    public void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, until) in sessions)
        {
            if (until <= now)
            {
                sessions.TryRemove(key, out _);
            }
        }

        foreach (var (key, until) in tokens)
        {
            if (until <= now)
            {
                tokens.TryRemove(key, out _);
            }
        }
    }
}

/// <summary>
/// Fills the revocation list at start, then polls the store for what other instances changed:
/// revocations (added to the list) and account changes (forgotten by the
/// <see cref="AccountDirectory"/>).
/// </summary>
internal sealed class StoreChangeSync(
    RevocationList list,
    AccountDirectory accounts,
    IServiceScopeFactory scopes,
    IOptions<TokenOptions> options,
    TimeProvider time,
    ILogger<StoreChangeSync> logger) : BackgroundService
{
    // Instances' clocks differ a little, and a row may commit a moment after the time it
    // carries; re-reading a short overlap makes such a row impossible to miss.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(10);

    // Polls further apart than this (the store was unreachable) might have missed account
    // changes that were pruned meanwhile, so every cached profile is forgotten.
    private static readonly TimeSpan MaxGap = AccountChange.Retention / 2;
    private readonly Dictionary<long, DateTimeOffset> seenChanges = [];
    private DateTimeOffset watermark = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationPollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncAsync(stoppingToken);
                list.Prune();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Revocation sync failed; retrying at the next tick");
            }
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = watermark == DateTimeOffset.MinValue ? DateTimeOffset.MinValue : watermark - Overlap;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();

        var revokedSessions = await db.Sessions.AsNoTracking()
            .Where(s => s.RevokedAt != null && s.RevokedAt > since && s.ExpiresAt > now)
            .Select(s => new { s.Id, s.ExpiresAt })
            .ToListAsync(cancellationToken);
        foreach (var s in revokedSessions)
        {
            list.AddSession(s.Id, s.ExpiresAt);
        }

        var revokedTokens = await db.RevokedTokens.AsNoTracking()
            .Where(t => t.RevokedAt > since && t.ExpiresAt > now)
            .Select(t => new { t.Jti, t.ExpiresAt })
            .ToListAsync(cancellationToken);
        foreach (var t in revokedTokens)
        {
            list.AddToken(t.Jti, t.ExpiresAt);
        }

        await ForgetChangedAccountsAsync(db, now, cancellationToken);
        watermark = now;
    }

    private async Task ForgetChangedAccountsAsync(TokenServerDb db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (watermark == DateTimeOffset.MinValue)
        {
            // Starting: nothing is cached yet.
            return;
        }

        if (now - watermark > MaxGap)
        {
            accounts.Forget(null);
        }

        var since = watermark - Overlap;
        var changes = await db.AccountChanges.AsNoTracking()
            .Where(c => c.ChangedAt > since)
            .Select(c => new { c.Id, c.AccountId, c.ChangedAt })
            .ToListAsync(cancellationToken);
        foreach (var c in changes)
        {
            // Each change is acted on once, though the overlap reads it several times.
            if (seenChanges.TryAdd(c.Id, c.ChangedAt))
            {
                accounts.Forget(c.AccountId);
            }
        }

        foreach (var (id, at) in seenChanges)
        {
            if (at <= since)
            {
                seenChanges.Remove(id);
            }
        }
    }
}
