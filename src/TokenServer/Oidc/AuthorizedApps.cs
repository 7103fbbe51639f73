using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>A client the person consented to (OpenID Connect Core 1.0 §3.1.2.4), with what it may do.</summary>
public sealed record AuthorizedApp(string ClientId, string Name, IReadOnlyList<string> Scopes, DateTimeOffset GrantedAt);

public static class AuthorizedAppAuditEvents
{
    public const string ConsentRevoked = "oidc.consent_revoked";
}

/// <summary>The consents an account gave to third-party clients, and their withdrawal.</summary>
public sealed class AuthorizedApps(TokenServerDb db, SessionTokens sessions, AuditLog audit, TimeProvider time)
{
    public async Task<List<AuthorizedApp>> ListAsync(long accountId, CancellationToken cancellationToken)
    {
        var rows = await db.Set<OidcConsent>().AsNoTracking()
            .Where(c => c.AccountId == accountId)
            .Join(db.Set<OidcClient>(), c => c.ClientId, k => k.ClientId, (c, k) => new { c.ClientId, k.Name, c.Scopes, c.GrantedAt })
            .ToListAsync(cancellationToken);
        return rows.OrderByDescending(r => r.GrantedAt).Select(r => new AuthorizedApp(r.ClientId, r.Name, r.Scopes, r.GrantedAt)).ToList();
    }

    /// <summary>
    /// Withdraws the consent and ends every live session the client holds for the account, with
    /// their refresh and access tokens (RFC 7009 §2.1: revoking a grant ends what it issued);
    /// the client must ask again. False if the account gave this client no consent.
    /// </summary>
    public async Task<bool> RevokeAsync(long accountId, string clientId, CancellationToken cancellationToken)
    {
        var removed = await db.WriteAsync(
            () => db.Set<OidcConsent>().Where(c => c.AccountId == accountId && c.ClientId == clientId).ExecuteDeleteAsync(cancellationToken),
            cancellationToken);
        if (removed == 0)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var ids = await db.Sessions.AsNoTracking()
            .Where(s => s.AccountId == accountId && s.ClientId == clientId && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await sessions.RevokeSessionAsync(id, RevocationReasons.UserRequest, cancellationToken);
        }

        audit.Record(AuthorizedAppAuditEvents.ConsentRevoked, accountId, $"client {clientId}, {ids.Count} sessions ended", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
