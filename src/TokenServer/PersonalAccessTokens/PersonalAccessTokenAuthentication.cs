using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.PersonalAccessTokens;

/// <summary>
/// Authenticates a request that presents a personal access token, in any header scheme of
/// CONTRACTS.md "Everywhere" (<see cref="PresentedToken"/>). The token's row is cached by hash;
/// revocation reaches every instance through the <see cref="RevocationList"/> (the token's id is
/// revoked like a <c>jti</c>), expiry is checked on each request, and the account's role and
/// status come from the <see cref="AccountDirectory"/>, never from the token.
/// </summary>
public sealed class PersonalAccessTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PersonalAccessTokenCache cache,
    RevocationList revocations,
    AccountDirectory accounts,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PersonalAccessToken";

    /// <summary>The <c>dialect</c> and <c>client_id</c> a token's principal carries, as audit and sessions name a front door.</summary>
    public const string Dialect = "personal_access_token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedToken.From(Context);
        if (presented.Token is null)
        {
            return AuthenticateResult.NoResult();
        }

        var row = PersonalAccessTokenFormat.LooksValid(presented.Token)
            ? await cache.FindAsync(OpaqueTokens.Hash(presented.Token), Context.RequestServices, Context.RequestAborted)
            : null;
        var now = time.GetUtcNow();
        if (row is null || row.RevokedAt is not null || row.ExpiresAt <= now || revocations.IsRevoked(null, row.Id))
        {
            return AuthenticateResult.Fail("The personal access token is unknown, expired or revoked.");
        }

        var profile = await accounts.FindAsync(row.AccountId, Context.RequestServices, Context.RequestAborted);
        if (profile is null || profile.Status != AccountStatuses.Active)
        {
            return AuthenticateResult.Fail("The personal access token's account is disabled or gone.");
        }

        var preferredUsername = profile.Username ?? profile.Email;
        if (!presented.UserHeaderNames(preferredUsername, profile.Email))
        {
            return AuthenticateResult.Fail("The User header does not name the token's subject.");
        }

        await cache.StampUseAsync(row, now, Context.RequestServices, Context.RequestAborted);

        var claims = new List<Claim>
        {
            new(JwtRegisteredClaimNames.Sub, profile.Id.ToString(CultureInfo.InvariantCulture)),
            // The token's id stands in for the session and token ids: logging out with it ends no
            // session, and revoking it is revoking that id (docs/decisions.md).
            new(TokenClaims.SessionId, row.Id),
            new(JwtRegisteredClaimNames.Jti, row.Id),
            new(TokenClaims.Email, profile.Email),
            new(TokenClaims.PreferredUsername, preferredUsername),
            new(TokenClaims.Role, PersonalAccessTokenScopes.RoleClaimFor(profile.Role, row.Scopes.Max(PersonalAccessTokenScopes.Level))),
            new(TokenClaims.Dialect, Dialect),
            new(TokenClaims.ClientId, Dialect),
        };
        claims.AddRange(row.Scopes.Select(s => new Claim(PersonalAccessTokenScopes.Claim, s)));
        var identity = new ClaimsIdentity(claims, SchemeName, TokenClaims.PreferredUsername, TokenClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>The token's shape: a recognisable prefix (so secret scanners and people can tell what leaked) and 256 random bits.</summary>
public static class PersonalAccessTokenFormat
{
    public const string Prefix = "tsp_";

    public static string Generate() => Prefix + OpaqueTokens.Generate();

    public static bool LooksValid(string? token) =>
        token is not null && token.StartsWith(Prefix, StringComparison.Ordinal) && OpaqueTokens.LooksValid(token[Prefix.Length..]);
}

/// <summary>What authentication needs of a token's row.</summary>
public sealed record PersonalAccessTokenRow(string Id, long AccountId, IReadOnlyList<string> Scopes, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt)
{
    internal long LastStampedTicks = LastUsedAt?.UtcTicks ?? 0;
}

/// <summary>
/// Token rows by hash, so a script's request does not go to the store to find its token, and the
/// last-used time, written at most once a minute per token (not once per request).
/// </summary>
public sealed class PersonalAccessTokenCache : IDisposable
{
    /// <summary>How stale <c>last_used_at</c> may be: a use within a minute of the last stamp writes nothing.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async ValueTask<PersonalAccessTokenRow?> FindAsync(string hash, IServiceProvider requestServices, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(hash, out PersonalAccessTokenRow? cached))
        {
            return cached;
        }

        var db = requestServices.GetRequiredService<TokenServerDb>();
        var row = await db.Set<PersonalAccessToken>().AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.AccountId, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var found = new PersonalAccessTokenRow(row.Id, row.AccountId, row.Scopes.Split(' '), row.ExpiresAt, row.RevokedAt, row.LastUsedAt);
        cache.Set(hash, found, EntryOptions);
        return found;
    }

    /// <summary>
    /// Stamps the last use if the last stamp is a minute old. The update is conditional, so
    /// several instances stamping the same token write at most once a minute between them.
    /// </summary>
    public async Task StampUseAsync(PersonalAccessTokenRow row, DateTimeOffset now, IServiceProvider requestServices, CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref row.LastStampedTicks);
        if (now.UtcTicks - last < LastUsedResolution.Ticks || Interlocked.CompareExchange(ref row.LastStampedTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        var db = requestServices.GetRequiredService<TokenServerDb>();
        var staleBefore = now - LastUsedResolution;
        await db.WriteAsync(
            () => db.Set<PersonalAccessToken>()
                .Where(t => t.Id == row.Id && (t.LastUsedAt == null || t.LastUsedAt <= staleBefore))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken),
            cancellationToken);
    }

    public void Dispose() => cache.Dispose();
}
