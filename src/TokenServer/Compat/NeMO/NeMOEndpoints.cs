using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Tokens;

namespace TokenServer.Compat.NeMO;

/// <summary>NeMO Archive's login (seeds/003): a 24-hour JWT, no refresh.</summary>
public static class NeMOEndpoints
{
    public const string Dialect = "nemo";

    public static IEndpointRouteBuilder MapNeMO(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("NeMO Archive").WithNoStore().WithMetadata(NeMOErrors.AuthFailures);
        group.MapPost("/login", Login).RequireCredentialRateLimit()
            .DocumentsBody<NeMOLoginRequest>("application/json", "application/x-www-form-urlencoded")
            .WithSummary("Log in with {username, password}; the body is read as JSON whatever the Content-Type (the seed's curl sends none)");
        return app;
    }

    private static async Task<Results<Ok<NeMOLoginResponse>, JsonHttpResult<NeMOMessage>>> Login(
        HttpRequest request, CredentialChecker credentials, SessionTokens sessions, IOptions<DialectOptions> options, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        // Lenient body (CONTRACTS.md "Everywhere"): `curl -d '{...}'` labels JSON as form-urlencoded.
        var body = await LenientBody.ReadAsync<NeMOLoginRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            logs.CreateLogger(typeof(NeMOEndpoints)).LogInformation("NeMO login with an unreadable body: {Reason}", body.Message);
            return NeMOErrors.Failed();
        }

        var r = body.Value!;
        var result = await credentials.CheckAsync(r.Username, r.Password, Dialect, cancellationToken);

        // Every failure, a member of a single sign-on organization included, is the one body
        // the contract allows (CONTRACTS.md NeMO: "Any authentication failure").
        if (!result.Succeeded)
        {
            return NeMOErrors.Failed();
        }

        var account = result.Account!;
        var lifetime = options.Value.NeMO.AccessTokenLifetime;
        // No refresh in NeMO: the session ends with its only token, so a revocation is kept no longer.
        var tokens = await sessions.StartAsync(account, new SessionRequest(Dialect, Dialect, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime), cancellationToken);
        var (first, last) = PersonName.Split(account.FullName);
        return TypedResults.Ok(new NeMOLoginResponse(NeMOErrors.SuccessfulLogin, tokens.Access.Token, account.Email, first, last, tokens.Access.ExpiresAt.ToUnixTimeSeconds()));
    }
}
