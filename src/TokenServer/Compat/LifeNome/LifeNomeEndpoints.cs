using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Tokens;

namespace TokenServer.Compat.LifeNome;

/// <summary>
/// LifeNome's SimpleJWT routes (seeds/000): token, token/refresh, token/verify. Routing matches
/// a path with or without its trailing slash, as Django does with APPEND_SLASH for these clients.
/// </summary>
public static class LifeNomeEndpoints
{
    public const string Dialect = "lifenome";
    public const string Prefix = "/platform-api/api/core-api";

    public static IEndpointRouteBuilder MapLifeNome(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("LifeNome").WithNoStore().WithMetadata(LifeNomeErrors.AuthFailures);
        group.MapPost("/auth/token/", Token).RequireCredentialRateLimit()
            .DocumentsBody<LifeNomeTokenRequest>("application/json")
            .WithSummary("SimpleJWT TokenObtainPairView: {username, password} -> {refresh, access}");
        group.MapPost("/auth/token/refresh/", Refresh).RequireCredentialRateLimit()
            .DocumentsBody<LifeNomeRefreshRequest>("application/json")
            .WithSummary("SimpleJWT TokenRefreshView: {refresh} -> {access, refresh} (the refresh token rotates)");
        group.MapPost("/auth/token/verify/", Verify).RequireCredentialRateLimit()
            .DocumentsBody<LifeNomeVerifyRequest>("application/json")
            .WithSummary("SimpleJWT TokenVerifyView: {token} -> {} when the token is valid");
        group.MapLifeNomeSamples();
        return app;
    }

    private static async Task<Results<Ok<LifeNomeTokenPair>, JsonHttpResult<LifeNomeDetail>, JsonHttpResult<Dictionary<string, string[]>>>> Token(
        HttpRequest request, CredentialChecker credentials, SessionTokens sessions, IOptions<DialectOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<LifeNomeTokenRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return LifeNomeErrors.Unreadable(body.Error, body.Message!);
        }

        var r = body.Value;
        var missing = new[] { ("username", r?.Username), ("password", r?.Password) }.Where(f => string.IsNullOrEmpty(f.Item2)).Select(f => f.Item1).ToArray();
        if (missing.Length > 0)
        {
            return LifeNomeErrors.Required(missing);
        }

        var result = await credentials.CheckAsync(r!.Username, r.Password, Dialect, cancellationToken);
        if (result.Failure == CredentialFailure.SsoRequired)
        {
            // DRF's PermissionDenied: 403 {detail}.
            return TypedResults.Json(new LifeNomeDetail(result.SsoMessage), statusCode: StatusCodes.Status403Forbidden);
        }

        if (!result.Succeeded)
        {
            // One body for unknown account, wrong password, locked and disabled (ARCHITECTURE.md habit 6).
            return LifeNomeErrors.BadLogin(request.HttpContext);
        }

        var tokens = await sessions.StartAsync(result.Account!, new SessionRequest(Dialect, Dialect, options.Value.LifeNome.AccessTokenLifetime, IssueRefreshToken: true), cancellationToken);
        return TypedResults.Ok(new LifeNomeTokenPair(tokens.RefreshToken!, tokens.Access.Token));
    }

    private static async Task<Results<Ok<LifeNomeRefreshed>, JsonHttpResult<LifeNomeTokenError>, JsonHttpResult<LifeNomeDetail>, JsonHttpResult<Dictionary<string, string[]>>>> Refresh(
        HttpRequest request, SessionTokens sessions, IOptions<DialectOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<LifeNomeRefreshRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return LifeNomeErrors.Unreadable(body.Error, body.Message!);
        }

        if (string.IsNullOrEmpty(body.Value?.Refresh))
        {
            return LifeNomeErrors.Required("refresh");
        }

        // Reuse of a rotated refresh token revokes the session inside RefreshAsync (RFC 9700 §4.14.2).
        var outcome = await sessions.RefreshAsync(body.Value.Refresh, Dialect, Dialect, options.Value.LifeNome.AccessTokenLifetime, cancellationToken);
        return outcome.Tokens is { } tokens
            ? TypedResults.Ok(new LifeNomeRefreshed(tokens.Access.Token, tokens.RefreshToken!))
            : LifeNomeErrors.InvalidToken(request.HttpContext);
    }

    private static async Task<Results<Ok<LifeNomeVerified>, JsonHttpResult<LifeNomeTokenError>, JsonHttpResult<LifeNomeDetail>, JsonHttpResult<Dictionary<string, string[]>>>> Verify(
        HttpRequest request, AccessTokenInspector inspector, SessionTokens sessions, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<LifeNomeVerifyRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return LifeNomeErrors.Unreadable(body.Error, body.Message!);
        }

        var token = body.Value?.Token;
        if (string.IsNullOrEmpty(token))
        {
            return LifeNomeErrors.Required("token");
        }

        // SimpleJWT verifies either kind of token; ours are a JWT access token or an opaque refresh token.
        var valid = OpaqueTokens.LooksValid(token)
            ? await sessions.FindRefreshTokenSessionAsync(token, cancellationToken) is not null
            : await inspector.ValidateAsync(token) is not null;
        return valid ? TypedResults.Ok(new LifeNomeVerified()) : LifeNomeErrors.InvalidToken(request.HttpContext);
    }
}
