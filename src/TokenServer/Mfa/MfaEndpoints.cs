using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
using TokenServer.Users;
using TokenServer.Tokens;

namespace TokenServer.Mfa;

/// <summary>TOTP enrolment and the second login step (CONTRACTS.md "MFA, password reset, email verification").</summary>
public static class MfaEndpoints
{
    public const string MfaRequiredError = "mfa_required";

    public static IEndpointRouteBuilder MapMfa(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth/mfa").WithTags("MFA").WithNoStore().RequireCredentialRateLimit();
        group.MapPost("/totp", Enrol).RequireAuthorization().RefusePersonalAccessTokens()
            .WithSummary("Start TOTP enrolment: a secret and otpauth URI for an authenticator app (MFA is on only after confirm)");
        group.MapPost("/totp/confirm", Confirm).RequireAuthorization().RefusePersonalAccessTokens()
            .DocumentsBody<MfaCodeRequest>("application/json")
            .WithSummary("Confirm enrolment with the app's first code; answers 10 single-use recovery codes, shown once");
        group.MapDelete("/totp", Disable).RequireAuthorization().RefusePersonalAccessTokens()
            .DocumentsBody<MfaCodeRequest>("application/json")
            .WithSummary("Turn MFA off with a current code or a recovery code");
        group.MapPost("/", Answer)
            .DocumentsBody<MfaAnswerRequest>("application/json")
            .WithSummary("Second login step: the mfa_token from the login's mfa_required answer and a TOTP or recovery code; answers the login's tokens");
        return app;
    }

    /// <summary>CONTRACTS.md: 401 <c>{error: "mfa_required", mfa_token}</c>, the same body for the native login and the OAuth password grant.</summary>
    public static JsonHttpResult<MfaRequiredResponse> Required(string mfaToken) =>
        TypedResults.Json(new MfaRequiredResponse(MfaRequiredError, mfaToken), statusCode: StatusCodes.Status401Unauthorized);

    private static async Task<Results<Ok<TotpEnrolmentResponse>, ProblemHttpResult>> Enrol(Caller caller, MultiFactor mfa, CancellationToken cancellationToken) =>
        await mfa.StartEnrolmentAsync(caller.AccountId!.Value, cancellationToken) is { } enrolment
            ? TypedResults.Ok(enrolment)
            : Problems.Create(StatusCodes.Status409Conflict, "MFA already on",
                "This account already has an authenticator. To replace it, turn MFA off (DELETE /api/v1/auth/mfa/totp with a code) and enrol again.");

    private static async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> Confirm(
        HttpRequest request, MultiFactor mfa, CancellationToken cancellationToken)
    {
        var (code, problem) = await ReadCodeAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var codes = await mfa.ConfirmAsync((await Caller.OfAsync(request.HttpContext)).AccountId!.Value, code!, cancellationToken);
        return codes is null
            ? Problems.Create(StatusCodes.Status400BadRequest, "Code not accepted",
                "The code does not match the pending authenticator (or no enrolment is pending). Check the device's clock, send the current 6-digit code, or start again at POST /api/v1/auth/mfa/totp.")
            : TypedResults.Ok(new RecoveryCodesResponse(codes));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Disable(
        HttpRequest request, MultiFactor mfa, CancellationToken cancellationToken)
    {
        var (code, problem) = await ReadCodeAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        return await mfa.DisableAsync((await Caller.OfAsync(request.HttpContext)).AccountId!.Value, code!, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.Create(StatusCodes.Status400BadRequest, "Code not accepted",
                "Send a current 6-digit code from your authenticator, or an unused recovery code. A code already used is not accepted again.");
    }

    private static async Task<Results<Ok<TokenPairResponse>, Ok<OAuthTokenResponse>, ValidationProblem, ProblemHttpResult>> Answer(
        HttpRequest request, MultiFactor mfa, SessionTokens sessions, IOptions<TokenOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<MfaAnswerRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        if (string.IsNullOrEmpty(body.Value?.MfaToken) || string.IsNullOrWhiteSpace(body.Value.Code))
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                [string.IsNullOrEmpty(body.Value?.MfaToken) ? "mfa_token" : "code"] =
                    ["Send {\"mfa_token\": \"...\", \"code\": \"123456\"}: the mfa_token from the login's mfa_required answer and a code from your authenticator (or a recovery code)."],
            });
        }

        var answered = await mfa.AnswerAsync(body.Value.MfaToken, body.Value.Code, cancellationToken);
        // A sign-in page's challenge ends in a browser session there, never in API tokens.
        if (answered is not { Challenge.Kind: MfaChallengeKinds.Login or MfaChallengeKinds.OAuth } ok)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "Second factor not accepted",
                "The code is wrong or already used, or the mfa_token expired, was used, or had too many attempts. Check the code; if it keeps failing, log in again for a new mfa_token.");
        }

        var lifetime = options.Value.AccessTokenLifetime;
        var tokens = await sessions.StartAsync(ok.Account,
            new SessionRequest(AuthEndpoints.Dialect, ok.Challenge.ClientId, lifetime, IssueRefreshToken: true, AuthenticationMethods: MultiFactor.PasswordAndOtp), cancellationToken);
        return ok.Challenge.Kind == MfaChallengeKinds.OAuth
            ? TypedResults.Ok(new OAuthTokenResponse(tokens.Access.Token, "Bearer", tokens.Access.ExpiresInSeconds, tokens.RefreshToken))
            : TypedResults.Ok(new TokenPairResponse(tokens.Access.Token, tokens.RefreshToken!, "bearer", tokens.Access.ExpiresInSeconds));
    }

    private static async Task<(string? Code, ValidationProblem? Problem)> ReadCodeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<MfaCodeRequest>(request, cancellationToken);
        return string.IsNullOrWhiteSpace(body.Value?.Code)
            ? (null, Problems.Field("code", "Send {\"code\": \"123456\"} with the current code from your authenticator app."))
            : (body.Value.Code.Trim(), null);
    }
}
