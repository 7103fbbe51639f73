using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
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
