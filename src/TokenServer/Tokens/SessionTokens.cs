using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Store;

namespace TokenServer.Tokens;

/// <summary>What a front door asks for when it starts a login session.</summary>
public sealed record SessionRequest(
    string Dialect,
    string ClientId,
    TimeSpan AccessTokenLifetime,
    bool IssueRefreshToken,
    TimeSpan? SessionLifetime = null,
    IReadOnlyDictionary<string, object>? ExtraClaims = null,
    ClientGrant? Grant = null,
    IReadOnlyList<string>? AuthenticationMethods = null)
{
    /// <summary>
    /// A conditional write that decides whether the session may start (an authorization code
    /// consumed, RFC 6749 §4.1.2), given the new session's id. It runs first in the session's
    /// own unit of work, so the claim and the session commit together or not at all; when it
    /// returns false nothing of the session is stored and <see cref="SessionTokens.TryStartAsync"/>
    /// returns null. It writes through the context it is given and must not capture another.
    /// </summary>
    public Func<TokenServerDb, string, CancellationToken, Task<bool>>? Claim { get; init; }
}

/// <summary>
/// What a registered OpenID Connect client was granted (docs/oidc.md): the browser session it came
/// from, the scope, and the access tokens' audience. Kept on the session, so refreshes keep them.
/// </summary>
public sealed record ClientGrant(string ParentSessionId, string Scope, string? Audience);

public sealed record IssuedTokens(IssuedAccessToken Access, string? RefreshToken, string SessionId);

public enum RefreshFailure
{
    None,
    Invalid,
    Reused,
}

public sealed record RefreshOutcome(IssuedTokens? Tokens, RefreshFailure Failure);

public static class RevocationReasons
{
    public const string Logout = "logout";
    public const string RefreshTokenReuse = "refresh_token_reuse";
    public const string Revoked = "revoked";
    public const string PasswordChanged = "password_changed";
    public const string PasswordReset = "password_reset";
    public const string AccountDisabled = "account_disabled";
    public const string AccountDeleted = "account_deleted";
    public const string RoleChanged = "role_changed";
    public const string AccountChanged = "account_changed";
    public const string UserRequest = "user_request";
}

/// <summary>
/// Login sessions and the tokens they hand out. The security-critical store queries live
/// here, once: refresh-token redemption and every kind of revocation.
/// </summary>
public sealed class SessionTokens(
    TokenServerDb db,
    AccessTokenIssuer issuer,
    RevocationList revocations,
    AuditLog audit,
    GroupCommit commits,
    IOptions<TokenOptions> options,
    TimeProvider time,
    IHttpContextAccessor http,
    RevocationPublisher publisher,
    IEnumerable<ISessionEndListener> listeners)
{
    /// <summary>
    /// A refresh stamps its session's last use only when the stamp is older than this, so a busy
    /// session costs one row update a minute rather than one a refresh (docs/performance.md).
    /// </summary>
    internal static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Every refresh starts here, so the query is compiled once (EF.CompileAsyncQuery) rather than
    /// looked up in EF Core's query cache on each call: the token, its session and its account in one read.
    /// </summary>
    private static readonly Func<TokenServerDb, string, CancellationToken, Task<RefreshRow?>> FindForRefresh =
        EF.CompileAsyncQuery((TokenServerDb db, string hash, CancellationToken _) => db.RefreshTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new RefreshRow(
                t.Id,
                t.SessionId,
                t.ExpiresAt,
                t.ConsumedAt,
                t.Session.RevokedAt,
                t.Session.ExpiresAt,
                t.Session.LastUsedAt,
                t.Session.Dialect,
                t.Session.ClientId,
                t.Session.AuthenticationMethods,
                t.Session.AccountId,
                t.Session.Account.Email,
                t.Session.Account.Username,
                t.Session.Account.Role,
                t.Session.Account.Status,
                t.Session.Scope,
                t.Session.Audience))
            .FirstOrDefault());

    public static TokenSubject SubjectOf(Account account) =>
        new(account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), account.Email, account.Username, account.Role);

    /// <summary>Starts a session for an authenticated account and saves it, with anything else the caller staged.</summary>
    public async Task<IssuedTokens> StartAsync(Account account, SessionRequest request, CancellationToken cancellationToken) =>
        await TryStartAsync(account, request, cancellationToken) ?? throw new InvalidOperationException("The request's claim was lost: a request with a Claim starts through TryStartAsync.");

    /// <summary>As <see cref="StartAsync"/>, but null when the request's <see cref="SessionRequest.Claim"/> was lost.</summary>
    public async Task<IssuedTokens?> TryStartAsync(Account account, SessionRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        var context = http.HttpContext;
        var session = new LoginSession
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            AccountId = account.Id,
            Dialect = request.Dialect,
            ClientId = request.ClientId,
            CreatedAt = now,
            LastUsedAt = now,
            ExpiresAt = now + (request.SessionLifetime ?? o.SessionLifetime),
            UserAgent = Truncate(context?.Request.Headers.UserAgent.ToString(), 256),
            ClientAddress = context?.Connection.RemoteIpAddress?.ToString(),
            ParentSessionId = request.Grant?.ParentSessionId,
            Scope = request.Grant?.Scope,
            Audience = request.Grant?.Audience,
            AuthenticationMethods = request.AuthenticationMethods is { Count: > 0 } methods ? string.Join(' ', methods) : null,
        };
        db.Sessions.Add(session);

        string? refresh = null;
        if (request.IssueRefreshToken)
        {
            refresh = AddRefreshToken(session.Id, session.ExpiresAt, now);
        }

        var access = issuer.Issue(SubjectOf(account), session.Id, request.Dialect, request.ClientId, request.AccessTokenLifetime, session.ExpiresAt, WithMethods(WithScope(request.ExtraClaims, session.Scope), session.AuthenticationMethods), session.Audience);
        var claim = request.Claim;
        var sessionId = session.Id;
        var staged = db.ChangeTracker.Entries().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (!await commits.RunAsync(db, async (writer, token) => claim is null || await claim(writer, sessionId, token) || Unstage(writer), cancellationToken))
        {
            // Nothing was stored: this context forgets the rows as well.
            foreach (var row in staged)
            {
                db.Entry(row).State = EntityState.Detached;
            }

            return null;
        }

        // A change to the account (role, status, credentials, deletion) commits first and then
        // revokes every session of it. A login that checked the account before the change may
        // store its session after that revocation, so it re-reads the account once its session
        // is stored: if the account changed meanwhile, the new session is revoked here and the
        // tokens handed back are dead (docs/security.md, "Account changes end sessions").
        var unchanged = await db.Accounts.AsNoTracking().AnyAsync(
            a => a.Id == account.Id && a.Status == AccountStatuses.Active && a.Role == account.Role && a.SecurityStamp == account.SecurityStamp, cancellationToken);
        if (!unchanged)
        {
            await RevokeSessionAsync(session.Id, RevocationReasons.AccountChanged, cancellationToken);
        }

        return new IssuedTokens(access, refresh, session.Id);
    }

    /// <summary>A lost claim: the session's staged rows are not saved with the unit.</summary>
    private static bool Unstage(TokenServerDb writer)
    {
        foreach (var entry in writer.ChangeTracker.Entries().Where(e => e.State == EntityState.Added).ToList())
        {
            entry.State = EntityState.Detached;
        }

        return false;
    }

    /// <summary>
    /// Starts a session that hands out no token itself: a browser's single sign-on session, held by
    /// a cookie. Sessions granted from it to registered clients end with it.
    /// </summary>
    public async Task<LoginSession> StartBrowserSessionAsync(Account account, string dialect, string clientId, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var context = http.HttpContext;
        var session = new LoginSession
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            AccountId = account.Id,
            Dialect = dialect,
            ClientId = clientId,
            CreatedAt = now,
            LastUsedAt = now,
            ExpiresAt = now + lifetime,
            UserAgent = Truncate(context?.Request.Headers.UserAgent.ToString(), 256),
            ClientAddress = context?.Connection.RemoteIpAddress?.ToString(),
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return session;
    }

    /// <summary>
    /// Redeems a refresh token: single use, rotated on every use. Presenting one that was
    /// already used revokes its whole session, since either the client or an attacker holds a
    /// stolen copy (RFC 6749 §10.4, RFC 9700 §4.14.2). Of two concurrent uses exactly one wins,
    /// by a conditional update; the other is treated as reuse. A refresh token redeems only at
    /// the front door that issued it, for the client it was issued to (RFC 6749 §6, "bound to
    /// the client"): another door has another lifetime policy (docs/security.md, "Refresh tokens
    /// stay at their door"); elsewhere it is simply invalid.
    /// </summary>
    public async Task<RefreshOutcome> RefreshAsync(string? presented, string dialect, string clientId, TimeSpan accessTokenLifetime, CancellationToken cancellationToken)
    {
        if (!OpaqueTokens.LooksValid(presented))
        {
            return new RefreshOutcome(null, RefreshFailure.Invalid);
        }

        var now = time.GetUtcNow();
        var hash = OpaqueTokens.Hash(presented!);
        var row = await FindForRefresh(db, hash, cancellationToken);
        if (row is null || row.Dialect != dialect || row.ClientId != clientId)
        {
            return new RefreshOutcome(null, RefreshFailure.Invalid);
        }

        if (row.ConsumedAt is not null)
        {
            await ReuseDetectedAsync(row.SessionId, row.AccountId, cancellationToken);
            return new RefreshOutcome(null, RefreshFailure.Reused);
        }

        if (row.RevokedAt is not null || row.ExpiresAt <= now || row.SessionExpiresAt <= now || row.Status != AccountStatuses.Active)
        {
            return new RefreshOutcome(null, RefreshFailure.Invalid);
        }

        // One unit of a group commit (Store/GroupCommit.cs): the conditional update comes first,
        // so of two uses of one token, in one batch or in two, exactly one wins. The rotation and
        // its audit row commit together, and the answer waits for that commit.
        var rotated = NewRefreshToken(row.SessionId, row.SessionExpiresAt, now, out var refresh);
        var recorded = audit.Create(AuditEventTypes.Refreshed, row.AccountId, dialect: row.Dialect);
        var stampLastUse = now - row.SessionLastUsedAt >= LastUseResolution;
        var won = await commits.RunAsync(
            db,
            async (writer, ct) =>
            {
                if (await writer.RefreshTokens
                    .Where(t => t.Id == row.Id && t.ConsumedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.ConsumedAt, now), ct) != 1)
                {
                    return false;
                }

                if (stampLastUse)
                {
                    await writer.Sessions.Where(s => s.Id == row.SessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), ct);
                }

                writer.RefreshTokens.Add(rotated);
                writer.AuditEvents.Add(recorded);
                return true;
            },
            cancellationToken);
        if (!won)
        {
            await ReuseDetectedAsync(row.SessionId, row.AccountId, cancellationToken);
            return new RefreshOutcome(null, RefreshFailure.Reused);
        }

        audit.Counted(recorded);
        var subject = new TokenSubject(row.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Email, row.Username, row.Role);
        var access = issuer.Issue(subject, row.SessionId, row.Dialect, row.ClientId, accessTokenLifetime, row.SessionExpiresAt, WithMethods(WithScope(null, row.Scope), row.AuthenticationMethods), row.Audience);
        return new RefreshOutcome(new IssuedTokens(access, refresh, row.SessionId), RefreshFailure.None);
    }

    /// <summary>The session a refresh token belongs to, if it is one of ours and still usable.</summary>
    public async Task<(string SessionId, long AccountId)?> FindRefreshTokenSessionAsync(string? presented, CancellationToken cancellationToken)
    {
        if (!OpaqueTokens.LooksValid(presented))
        {
            return null;
        }

        var hash = OpaqueTokens.Hash(presented!);
        var now = time.GetUtcNow();
        var row = await db.RefreshTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash && t.ConsumedAt == null && t.ExpiresAt > now && t.Session.RevokedAt == null && t.Session.ExpiresAt > now)
            .Select(t => new { t.SessionId, t.Session.AccountId })
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : (row.SessionId, row.AccountId);
    }

    /// <summary>
    /// Revokes one session: its refresh tokens and every access token carrying its <c>sid</c>, and
    /// likewise every session granted from it (a browser session's clients, docs/oidc.md). True if
    /// the session itself was live.
    /// </summary>
    public async Task<bool> RevokeSessionAsync(string sessionId, string reason, CancellationToken cancellationToken)
    {
        var revoked = await RevokeAsync(db.Sessions.Where(s => s.Id == sessionId || s.ParentSessionId == sessionId), reason, cancellationToken);
        return revoked.Any(s => s.SessionId == sessionId);
    }

    /// <summary>Revokes every live session of an account, except <paramref name="keepSessionId"/> if given.</summary>
    public async Task<int> RevokeAccountSessionsAsync(long accountId, string? keepSessionId, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var revoked = await RevokeAsync(db.Sessions.Where(s => s.AccountId == accountId && s.ExpiresAt > now && s.Id != keepSessionId), reason, cancellationToken);
        return revoked.Count;
    }

    /// <summary>
    /// Every session revocation: one conditional update of the live sessions chosen, their
    /// revocation published (<see cref="RevocationPublisher"/>), and once committed the
    /// <see cref="ISessionEndListener"/>s told.
    /// </summary>
    private async Task<IReadOnlyList<EndedSession>> RevokeAsync(IQueryable<LoginSession> which, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var targets = await which.AsNoTracking().Where(s => s.RevokedAt == null)
            .Select(s => new { s.Id, s.ExpiresAt, s.AccountId, s.ClientId, s.ParentSessionId })
            .ToListAsync(cancellationToken);
        if (targets.Count == 0)
        {
            return [];
        }

        var ids = targets.Select(t => t.Id).ToList();
        await using (var transaction = await db.BeginWriteTransactionAsync(cancellationToken))
        {
            await db.Sessions
                .Where(s => ids.Contains(s.Id) && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now).SetProperty(x => x.RevokedReason, reason), cancellationToken);
            await publisher.PublishAsync(transaction, RevocationKinds.Session, [.. targets.Select(t => new Revoked(t.Id, t.ExpiresAt))], cancellationToken);
        }

        List<EndedSession> ended = [.. targets.Select(t => new EndedSession(t.Id, t.AccountId, t.ClientId, t.ParentSessionId))];
        foreach (var listener in listeners)
        {
            await listener.SessionsEndedAsync(ended, cancellationToken);
        }

        return ended;
    }

    /// <summary>Revokes one access token by its <c>jti</c> until it would have expired (RFC 7009 §2).</summary>
    public async Task RevokeAccessTokenAsync(string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (expiresAt <= now || revocations.IsRevoked(null, jti))
        {
            return;
        }

        if (await db.RevokedTokens.AnyAsync(t => t.Jti == jti, cancellationToken))
        {
            revocations.AddToken(jti, expiresAt);
            return;
        }

        db.RevokedTokens.Add(new RevokedToken { Jti = jti, RevokedAt = now, ExpiresAt = expiresAt });
        await publisher.PublishAsync(null, RevocationKinds.Token, [new Revoked(jti, expiresAt)], cancellationToken);
    }

    private async Task ReuseDetectedAsync(string sessionId, long accountId, CancellationToken cancellationToken)
    {
        await RevokeSessionAsync(sessionId, RevocationReasons.RefreshTokenReuse, cancellationToken);
        audit.Record(AuditEventTypes.RefreshReuseDetected, accountId, $"session {sessionId} revoked");
        await db.SaveChangesAsync(cancellationToken);
    }

    private string AddRefreshToken(string sessionId, DateTimeOffset sessionExpiresAt, DateTimeOffset now)
    {
        db.RefreshTokens.Add(NewRefreshToken(sessionId, sessionExpiresAt, now, out var token));
        return token;
    }

    private RefreshToken NewRefreshToken(string sessionId, DateTimeOffset sessionExpiresAt, DateTimeOffset now, out string token)
    {
        token = OpaqueTokens.Generate();
        var expires = now + options.Value.RefreshTokenLifetime;
        return new RefreshToken
        {
            SessionId = sessionId,
            TokenHash = OpaqueTokens.Hash(token),
            CreatedAt = now,
            ExpiresAt = expires < sessionExpiresAt ? expires : sessionExpiresAt,
        };
    }

    private sealed record RefreshRow(
        long Id,
        string SessionId,
        DateTimeOffset ExpiresAt,
        DateTimeOffset? ConsumedAt,
        DateTimeOffset? RevokedAt,
        DateTimeOffset SessionExpiresAt,
        DateTimeOffset SessionLastUsedAt,
        string Dialect,
        string ClientId,
        string? AuthenticationMethods,
        long AccountId,
        string Email,
        string? Username,
        string Role,
        string Status,
        string? Scope,
        string? Audience);

    private static IReadOnlyDictionary<string, object>? WithScope(IReadOnlyDictionary<string, object>? claims, string? scope) =>
        scope is null ? claims : new Dictionary<string, object>(claims ?? new Dictionary<string, object>(), StringComparer.Ordinal) { [TokenClaims.Scope] = scope };

    /// <summary>The session's <c>amr</c> (RFC 8176) on every access token it issues, refreshed ones included.</summary>
    private static IReadOnlyDictionary<string, object>? WithMethods(IReadOnlyDictionary<string, object>? extra, string? methods)
    {
        if (methods is null)
        {
            return extra;
        }

        var claims = extra is null ? new Dictionary<string, object>(StringComparer.Ordinal) : new Dictionary<string, object>(extra, StringComparer.Ordinal);
        claims[TokenClaims.AuthenticationMethods] = methods.Split(' ');
        return claims;
    }

    private static string? Truncate(string? value, int max) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= max ? value : value[..max];
}
