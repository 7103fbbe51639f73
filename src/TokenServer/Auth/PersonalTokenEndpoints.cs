using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Auth;

/// <summary>The account page's four-hour token (CONTRACTS.md, POST /api/v1/auth/personal-token).</summary>
public sealed record PersonalTokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt);

/// <summary>The claims a front door adds to a personal token so that it reads like its own login token.</summary>
public delegate Task<IReadOnlyDictionary<string, object>> PersonalTokenClaims(Account account, TokenServerDb db, CancellationToken cancellationToken);

/// <summary>
/// The account page's token (CONTRACTS.md native table): the way in for members of an SSO
/// organization. A personal token is a login session of its own, minted from a live session
/// that is not itself a personal token's, and it ends no later than that parent session
/// (docs/security.md, "Personal tokens").
/// </summary>
public static class PersonalTokenEndpoints
{
    public const string ClientId = "personal-token";

    /// <summary>The route; <paramref name="dialect"/>, <paramref name="lifetime"/> and <paramref name="claims"/> give the token the shape of one front door's login token (TetraScience's, seeds/004).</summary>
    public static IEndpointRouteBuilder MapPersonalToken(this IEndpointRouteBuilder app, string dialect, TimeSpan lifetime, PersonalTokenClaims claims)
    {
        app.MapPost("/api/v1/auth/personal-token", (Caller caller, TokenServerDb db, SessionTokens sessions, TimeProvider time, CancellationToken cancellationToken) =>
                MintAsync(caller, db, sessions, time, new PersonalTokenShape(dialect, lifetime, claims), cancellationToken))
            .WithTags("Auth").RequireAuthorization().RequireCredentialRateLimit().WithNoStore().RefusePersonalAccessTokens()
            .WithSummary("A four-hour token for scripts, shaped like a TetraScience login token; it ends no later than the session that asked for it");
        return app;
    }

    private sealed record PersonalTokenShape(string Dialect, TimeSpan Lifetime, PersonalTokenClaims Claims);

    private static async Task<Results<Created<PersonalTokenResponse>, ProblemHttpResult>> MintAsync(
        Caller caller, TokenServerDb db, SessionTokens sessions, TimeProvider time, PersonalTokenShape shape, CancellationToken cancellationToken)
    {
        if (!caller.IsAuthenticated)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Account not active", "This account is disabled or gone; it cannot get new tokens.");
        }

        // A personal token minting another would renew itself for ever, past every session it came from.
        if (caller.ClientId == ClientId)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Personal token cannot mint another",
                "Ask for a personal token with the token of a login (POST /api/v1/auth/login), not with a personal token.");
        }

        var now = time.GetUtcNow();
        var parentEnds = await db.Sessions.AsNoTracking()
            .Where(s => s.Id == caller.SessionId && s.AccountId == caller.AccountId && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => (DateTimeOffset?)s.ExpiresAt)
            .FirstOrDefaultAsync(cancellationToken);
        if (parentEnds is null)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "Session ended",
                "The session this token belongs to has ended. Log in again, then ask for a personal token.");
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == caller.AccountId, cancellationToken);
        var sessionLifetime = parentEnds.Value - now < shape.Lifetime ? parentEnds.Value - now : shape.Lifetime;
        var claims = await shape.Claims(account, db, cancellationToken);
        var tokens = await sessions.StartAsync(account,
            new SessionRequest(shape.Dialect, ClientId, shape.Lifetime, IssueRefreshToken: false, SessionLifetime: sessionLifetime, ExtraClaims: claims), cancellationToken);
        return TypedResults.Created((string?)null, new PersonalTokenResponse(tokens.Access.Token, tokens.Access.ExpiresAt));
    }
}
