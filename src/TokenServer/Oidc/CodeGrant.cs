using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>Why a token request of a registered client failed, in RFC 6749 §5.2 terms.</summary>
public sealed record GrantError(string Error, string Description, int Status = StatusCodes.Status400BadRequest);

public sealed record GrantResult(IssuedTokens? Tokens, string? IdToken, string? Scope, GrantError? Error)
{
    public static GrantResult Fail(string error, string description) => new(null, null, null, new GrantError(error, description));
}

/// <summary>
/// <c>grant_type=authorization_code</c> at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6,
/// OpenID Connect Core 1.0 §3.1.3). Each redemption starts a session for the client, granted from
/// the browser session that authorized it, so signing out of the browser ends it.
/// </summary>
public sealed class CodeGrant(
    TokenServerDb db,
    SessionTokens sessions,
    IdTokenIssuer idTokens,
    AuditLog audit,
    IOptions<TokenOptions> tokenOptions,
    IOptions<OidcOptions> options,
    TimeProvider time)
{
    public const string Dialect = "oidc";
    public const string CodeReuseDetected = "token.code_reuse_detected";

    public async Task<GrantResult> RedeemAsync(OidcClient client, string? code, string? redirectUri, string? verifier, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(code) || string.IsNullOrEmpty(redirectUri) || string.IsNullOrEmpty(verifier))
        {
            return Fail(OidcErrors.InvalidRequest, "The authorization_code grant needs code, redirect_uri and code_verifier (RFC 7636 §4.5).");
        }

        if (!client.GrantTypes.Contains(OidcGrantTypes.AuthorizationCode))
        {
            return Fail("unauthorized_client", "This client is not registered for the authorization_code grant.");
        }

        if (!OpaqueTokens.LooksValid(code))
        {
            return Fail(OAuthInvalidGrant, InvalidCodeMessage);
        }

        var hash = OpaqueTokens.Hash(code);
        var row = await db.Set<AuthorizationCode>().AsNoTracking().FirstOrDefaultAsync(c => c.CodeHash == hash, cancellationToken);
        var now = time.GetUtcNow();
        if (row is null || row.ClientId != client.ClientId)
        {
            return Fail(OAuthInvalidGrant, InvalidCodeMessage);
        }

        if (row.ConsumedAt is not null)
        {
            await ReusedAsync(row, cancellationToken);
            return Fail(OAuthInvalidGrant, InvalidCodeMessage);
        }

        if (row.ExpiresAt <= now)
        {
            return Fail(OAuthInvalidGrant, "The authorization code has expired (codes live at most 60 seconds); start the sign-in again.");
        }

        if (row.RedirectUri != redirectUri)
        {
            return Fail(OAuthInvalidGrant, "redirect_uri differs from the one in the authorization request (RFC 6749 §4.1.3).");
        }

        if (!VerifierMatches(verifier, row.CodeChallenge))
        {
            return Fail(OAuthInvalidGrant, "code_verifier does not match the code_challenge of the authorization request (RFC 7636 §4.6).");
        }

        var parent = await db.Sessions.AsNoTracking()
            .Where(s => s.Id == row.BrowserSessionId && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => new { s.ExpiresAt, s.Account })
            .FirstOrDefaultAsync(cancellationToken);
        if (parent is null || parent.Account.Status != AccountStatuses.Active)
        {
            return Fail(OAuthInvalidGrant, "The sign-in this code came from has ended; start the sign-in again.");
        }

        // Single use, decided by one conditional update in the new session's own unit of work, so
        // the code is consumed, the session it issued recorded and the session stored in one
        // commit: of two concurrent redemptions one wins, the other is a reuse (RFC 6749 §4.1.2).
        async Task<bool> Consume(TokenServerDb writer, string sessionId, CancellationToken token) =>
            await writer.Set<AuthorizationCode>().Where(c => c.CodeHash == hash && c.ConsumedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now).SetProperty(c => c.IssuedSessionId, sessionId), token) == 1;
        var result = await IssueAsync(client, parent.Account, row.BrowserSessionId, parent.ExpiresAt, row.Scope, row.Nonce, row.AuthTime, cancellationToken, row.AuthenticationMethods?.Split(' ', StringSplitOptions.RemoveEmptyEntries), row.Acr, Consume);
        if (result is null)
        {
            // The winner's row, which names the session it issued.
            await ReusedAsync(await db.Set<AuthorizationCode>().AsNoTracking().FirstAsync(c => c.CodeHash == hash, cancellationToken), cancellationToken);
            return Fail(OAuthInvalidGrant, InvalidCodeMessage);
        }

        return result;
    }

    /// <summary>
    /// Starts the client's session, granted from the browser session <paramref name="parentSessionId"/>
    /// (so it ends with it), and its tokens: a refresh token only with offline_access (OpenID Connect
    /// Core 1.0 §11), an ID token only with openid; its <c>amr</c> is <paramref name="amr"/> (a password when not given).
    /// With a <paramref name="claim"/> (<see cref="SessionRequest.Claim"/>), null when the claim was lost.
    /// </summary>
    public async Task<GrantResult?> IssueAsync(OidcClient client, Account account, string parentSessionId, DateTimeOffset parentExpiresAt, string scope, string? nonce, DateTimeOffset authTime, CancellationToken cancellationToken, IReadOnlyList<string>? amr = null, string? acr = null, Func<TokenServerDb, string, CancellationToken, Task<bool>>? claim = null)
    {
        var now = time.GetUtcNow();
        var scopes = OidcScopes.Parse(scope);
        var lifetime = client.AccessTokenLifetimeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : tokenOptions.Value.AccessTokenLifetime;
        var refresh = scopes.Contains(OidcScopes.OfflineAccess) && client.GrantTypes.Contains(OidcGrantTypes.RefreshToken);
        // Staged before the session starts, so the event commits with it.
        var signedIn = audit.Create(AuditEventTypes.LoginSucceeded, account.Id, $"{client.ClientId} signed in", dialect: Dialect);
        db.AuditEvents.Add(signedIn);
        var request = new SessionRequest(
            Dialect,
            client.ClientId,
            lifetime,
            refresh,
            SessionLifetime: parentExpiresAt - now,
            Grant: new ClientGrant(parentSessionId, scope, client.Audience))
        {
            Claim = claim,
        };
        var issued = await sessions.TryStartAsync(account, request, cancellationToken);
        if (issued is null)
        {
            return null;
        }

        audit.Counted(signedIn);

        string? idToken = null;
        if (scopes.Contains(OidcScopes.OpenId))
        {
            idToken = idTokens.Issue(new IdTokenRequest(
                SessionTokens.SubjectOf(account).Subject,
                client.ClientId,
                parentSessionId,
                authTime,
                nonce,
                amr is { Count: > 0 } ? amr : ["pwd"],
                options.Value.IdTokenLifetime,
                UserClaims.For(account, scopes),
                acr));
        }

        return new GrantResult(issued, idToken, scope, null);
    }

    private const string OAuthInvalidGrant = "invalid_grant";
    private const string InvalidCodeMessage = "The authorization code is unknown, was issued to another client, or was already used; start the sign-in again.";

    /// <summary>RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge; the verifier is 43 to 128 unreserved characters (§4.1).</summary>
    private static bool VerifierMatches(string verifier, string challenge)
    {
        if (verifier.Length is < 43 or > 128 || !verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
        {
            return false;
        }

        var computed = Encoding.ASCII.GetBytes(Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge));
    }

    /// <summary>A code used twice was stolen or replayed: what the first use issued is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5).</summary>
    private async Task ReusedAsync(AuthorizationCode row, CancellationToken cancellationToken)
    {
        if (row.IssuedSessionId is { } issued)
        {
            await sessions.RevokeSessionAsync(issued, RevocationReasons.RefreshTokenReuse, cancellationToken);
        }

        audit.Record(CodeReuseDetected, row.AccountId, $"authorization code of {row.ClientId} used twice");
        await db.SaveChangesAsync(cancellationToken);
    }

    private static GrantResult Fail(string error, string description) => GrantResult.Fail(error, description);
}

/// <summary>The standard claims each scope releases (OpenID Connect Core 1.0 §5.4), for the ID token and /userinfo.</summary>
public static class UserClaims
{
    public static Dictionary<string, object> For(Account account, IReadOnlyCollection<string> scopes)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        if (scopes.Contains(OidcScopes.Profile))
        {
            claims["name"] = account.FullName;
            claims["preferred_username"] = account.Username ?? account.Email;
        }

        if (scopes.Contains(OidcScopes.Email))
        {
            claims["email"] = account.Email;
            // True only for an address proven by a mailed link or by a provider that verified it.
            claims["email_verified"] = account.EmailVerifiedAt is not null;
        }

        return claims;
    }
}
