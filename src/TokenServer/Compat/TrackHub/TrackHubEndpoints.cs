using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Compat.TrackHub;

/// <summary>
/// TrackHub Registry's login and logout (seeds/002): the older /api/login and /api/logout and
/// the newer /api/user/login and /api/user/logout. The token has no refresh: it is the session.
/// </summary>
public static class TrackHubEndpoints
{
    public const string Dialect = "trackhub";

    public static IEndpointRouteBuilder MapTrackHub(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api").WithTags("TrackHub Registry").WithNoStore().WithMetadata(TrackHubErrors.AuthFailures);
        group.MapGet("/login", Login).RequireCredentialRateLimit().WithSummary("Log in with HTTP Basic credentials");
        group.MapPost("/login", Login).RequireCredentialRateLimit().DisableAntiforgery()
            .DocumentsBody<TrackHubLoginRequest>("application/x-www-form-urlencoded", "application/json")
            .WithSummary("Log in with the form fields username and password (or HTTP Basic)");
        group.MapPost("/user/login", Login).RequireCredentialRateLimit().DisableAntiforgery()
            .DocumentsBody<TrackHubLoginRequest>("application/x-www-form-urlencoded", "application/json")
            .WithSummary("Newer path of POST /api/login");
        group.MapGet("/logout", Logout).RequireAuthorization().WithSummary("Revoke the presented auth token");
        group.MapPost("/user/logout", Logout).RequireAuthorization().WithSummary("Newer path of GET /api/logout");
        return app;
    }

    private static async Task<Results<Ok<TrackHubLoginResponse>, JsonHttpResult<TrackHubError>>> Login(
        HttpRequest request, CredentialChecker credentials, SessionTokens sessions, IOptions<DialectOptions> options, CancellationToken cancellationToken)
    {
        string? username = null;
        string? password = null;
        if (HttpMethods.IsPost(request.Method) && (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0))
        {
            var body = await LenientBody.ReadAsync<TrackHubLoginRequest>(request, cancellationToken);
            if (body.Error is BodyError.Malformed or BodyError.TooLarge)
            {
                return TrackHubErrors.Unreadable(body.Error, body.Message!);
            }

            username = body.Value?.Username;
            password = body.Value?.Password;
        }

        if (username is null && password is null && TryReadBasic(request, out var basicUser, out var basicPassword))
        {
            username = basicUser;
            password = basicPassword;
        }

        var result = await credentials.CheckAsync(username, password, Dialect, cancellationToken);
        if (result.Failure == CredentialFailure.SsoRequired)
        {
            return TypedResults.Json(new TrackHubError(result.SsoMessage), statusCode: StatusCodes.Status403Forbidden);
        }

        if (!result.Succeeded)
        {
            return TrackHubErrors.LoginFailed(request.HttpContext);
        }

        var account = result.Account!;
        var lifetime = options.Value.TrackHub.AccessTokenLifetime;
        var tokens = await sessions.StartAsync(account, new SessionRequest(Dialect, Dialect, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime), cancellationToken);
        return TypedResults.Ok(new TrackHubLoginResponse(tokens.Access.Token, account.Email, account.IsActivated));
    }

    private static async Task<Ok<TrackHubMessage>> Logout(ClaimsPrincipal user, Caller caller, SessionTokens sessions, AuditLog audit, TokenServerDb db, CancellationToken cancellationToken)
    {
        await sessions.RevokeSessionAsync(user.FindFirstValue(TokenClaims.SessionId)!, RevocationReasons.Logout, cancellationToken);
        audit.Record(AuditEventTypes.Logout, caller.AccountId, dialect: Dialect);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new TrackHubMessage(TrackHubErrors.LoggedOut));
    }

    /// <summary>RFC 7617 §2: base64 of "user-id:password", split at the first colon.</summary>
    private static bool TryReadBasic(HttpRequest request, out string? username, out string? password)
    {
        username = password = null;
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is not { Length: > 0 and <= 8192 } encoded)
        {
            return false;
        }

        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        username = text[..colon];
        password = text[(colon + 1)..];
        return true;
    }
}
