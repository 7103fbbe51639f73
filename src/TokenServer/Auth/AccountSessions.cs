using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Auth;

/// <summary>
/// A person's own live login sessions (API logins, browser sign-ins, apps signed in through
/// them): listed and ended by <c>/api/v1/auth/sessions</c> and the account page alike. Every
/// revocation goes through <see cref="SessionTokens"/>, which updates this instance's revocation
/// list at once, so a revoked token fails on the very next request.
/// </summary>
public sealed class AccountSessions(TokenServerDb db, SessionTokens sessions, AuditLog audit, TimeProvider time)
{
    /// <summary>Live sessions, newest first; <c>current</c> marks <paramref name="currentSessionId"/>.</summary>
    public Task<List<SessionResponse>> ListAsync(long accountId, string? currentSessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Sessions.AsNoTracking()
            .Where(s => s.AccountId == accountId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.CreatedAt)
            .Select(s => new SessionResponse(s.Id, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.ClientAddress, s.UserAgent, s.Dialect, s.ClientId, s.Id == currentSessionId))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Ends one live session of the account (and what was granted from it); false if it has none with this id.</summary>
    public async Task<bool> EndAsync(long accountId, string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();

        // Authorization in the WHERE clause: another account's session does not exist.
        if (!await db.Sessions.AsNoTracking().AnyAsync(s => s.Id == id && s.AccountId == accountId && s.RevokedAt == null && s.ExpiresAt > now, cancellationToken))
        {
            return false;
        }

        await sessions.RevokeSessionAsync(id, RevocationReasons.UserRequest, cancellationToken);
        audit.Record(AuditEventTypes.SessionRevoked, accountId, $"session {id}", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Ends every live session of the account except <paramref name="keepSessionId"/>; answers how many.</summary>
    public async Task<int> EndOthersAsync(long accountId, string? keepSessionId, CancellationToken cancellationToken)
    {
        var count = await sessions.RevokeAccountSessionsAsync(accountId, keepSessionId, RevocationReasons.UserRequest, cancellationToken);
        audit.Record(AuditEventTypes.SessionRevoked, accountId, $"{count} other sessions", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return count;
    }
}
