using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;

namespace TokenServer.Tokens;

/// <summary>
/// Revoked sessions and access-token ids, in memory, so checking a presented token costs no
/// store round trip. Revocations made here are added at once; those made by other instances
/// arrive through <see cref="RevocationSync"/> within one poll interval. An entry is kept only
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

/// <summary>Fills the revocation list at start and polls the store for revocations made by other instances.</summary>
internal sealed class RevocationSync(
    RevocationList list,
    IServiceScopeFactory scopes,
    IOptions<TokenOptions> options,
    TimeProvider time,
    ILogger<RevocationSync> logger) : BackgroundService
{
    // Instances' clocks differ a little; re-reading a short overlap makes a late row impossible to miss.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(10);
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

        watermark = now;
    }
}
