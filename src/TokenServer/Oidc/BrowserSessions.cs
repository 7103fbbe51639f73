using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>Who is signed in to this browser: a live login session held by the session cookie.</summary>
public sealed record BrowserUser(long AccountId, string SessionId, DateTimeOffset AuthTime, IReadOnlyList<string> Amr, string? Acr = null)
{
    public string Subject => AccountId.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The browser's single sign-on session. The cookie (ASP.NET Core cookie authentication, encrypted
/// with the Data Protection key ring kept in the store) only points at a login session row: the
/// row is the truth, so the session is listed with the others, revocable like them, and a
/// revoked one stops the cookie on every instance within the revocation poll interval.
/// </summary>
public sealed class BrowserSessions(SessionTokens sessions, IOptions<OidcOptions> options, TimeProvider time)
{
    public const string Scheme = "TokenServer.Browser";
    public const string CookieName = "tokenserver.session";
    public const string Dialect = "browser";
    public const string ClientId = "tokenserver";
    private const string AuthTimeClaim = "auth_time";
    private const string AmrClaim = "amr";
    private const string AcrClaim = "acr";

    public static async Task<BrowserUser?> CurrentAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(Scheme);
        return result.Succeeded ? FromPrincipal(result.Principal) : null;
    }

    /// <summary>
    /// Signs an account in after its password was checked. The same account signing in again keeps
    /// its session (a fresh auth_time); another account takes the browser over, so the previous
    /// account's session ends. <paramref name="amr"/> and <paramref name="acr"/> say how the person
    /// proved who they are (RFC 8176; an upstream provider's, Federation/): a password when not given.
    /// </summary>
    public async Task SignInAsync(HttpContext context, Account account, CancellationToken cancellationToken, IReadOnlyList<string>? amr = null, string? acr = null)
    {
        var current = await CurrentAsync(context);
        string sessionId;
        if (current is not null && current.AccountId == account.Id)
        {
            sessionId = current.SessionId;
        }
        else
        {
            if (current is not null)
            {
                await sessions.RevokeSessionAsync(current.SessionId, RevocationReasons.Logout, cancellationToken);
            }

            sessionId = (await sessions.StartBrowserSessionAsync(account, Dialect, ClientId, options.Value.BrowserSessionLifetime, cancellationToken)).Id;
        }

        var now = time.GetUtcNow();
        var identity = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, account.Id.ToString(CultureInfo.InvariantCulture)),
                new Claim(TokenClaims.SessionId, sessionId),
                new Claim(AuthTimeClaim, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
                .. (amr ?? ["pwd"]).Select(method => new Claim(AmrClaim, method)),
            ],
            Scheme);
        if (acr is not null)
        {
            identity.AddClaim(new Claim(AcrClaim, acr));
        }

        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties
        {
            IsPersistent = false,
            ExpiresUtc = now + options.Value.BrowserSessionLifetime,
        });
    }

    /// <summary>Ends the browser's session and every session granted from it, and clears the cookie.</summary>
    public async Task<BrowserUser?> SignOutAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var current = await CurrentAsync(context);
        if (current is not null)
        {
            await sessions.RevokeSessionAsync(current.SessionId, RevocationReasons.Logout, cancellationToken);
        }

        await context.SignOutAsync(Scheme);
        return current;
    }

    internal static void Configure(CookieAuthenticationOptions o, TimeSpan lifetime)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.HttpOnly = true;
        // Lax: the cookie rides top-level navigations from a client to /authorize, not
        // cross-site subrequests or POSTs (RFC 6265bis §8.8).
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = lifetime;
        o.SlidingExpiration = false;
        o.LoginPath = "/signin";
        o.Events.OnValidatePrincipal = async context =>
        {
            var user = FromPrincipal(context.Principal);
            var services = context.HttpContext.RequestServices;
            if (user is null || services.GetRequiredService<RevocationList>().IsRevoked(user.SessionId, null))
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(Scheme);
                return;
            }

            // Using the cookie is using its session: the sessions list shows when it was last used.
            await services.GetRequiredService<BrowserSessionUse>().StampAsync(user.SessionId, services.GetRequiredService<TokenServerDb>(), context.HttpContext.RequestAborted);
        };
    }

    private static BrowserUser? FromPrincipal(ClaimsPrincipal? principal)
    {
        if (principal is null
            || !long.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
            || principal.FindFirstValue(TokenClaims.SessionId) is not { } sid
            || !long.TryParse(principal.FindFirstValue(AuthTimeClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var authTime))
        {
            return null;
        }

        return new BrowserUser(accountId, sid, DateTimeOffset.FromUnixTimeSeconds(authTime), principal.FindAll(AmrClaim).Select(c => c.Value).ToList(), principal.FindFirstValue(AcrClaim));
    }
}
