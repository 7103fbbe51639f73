using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Email;
using TokenServer.Hosting;
using TokenServer.Mfa;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Auth;

/// <summary>The native API's /api/v1/auth routes, shaped like the SeqDB document (seeds/001).</summary>
public static class AuthEndpoints
{
    public const string Dialect = "native";
    public const string ClientId = "tokenserver";

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("Auth").WithNoStore();

        group.MapPost("/register", Register).RequireCredentialRateLimit()
            .DocumentsBody<RegisterRequest>("application/json")
            .WithSummary("Create an account")
            .WithDescription("Self-registration may choose the role researcher (default) or viewer; any other role needs an admin's bearer token.");
        group.MapPost("/login", Login).RequireCredentialRateLimit()
            .DocumentsBody<LoginRequest>("application/json", "application/x-www-form-urlencoded")
            .WithSummary("Log in with email (or username) and password");
        group.MapPost("/refresh", Refresh).RequireCredentialRateLimit()
            .DocumentsBody<RefreshRequest>("application/json", "application/x-www-form-urlencoded")
            .WithSummary("Exchange a refresh token for a new pair (the old refresh token stops working)");
        group.MapPost("/logout", Logout).RequireAuthorization()
            .DocumentsBody<LogoutRequest>("application/json")
            .WithSummary("Revoke the current session and its tokens");
        group.MapGet("/me", Me).RequireAuthorization().WithSummary("The caller's profile, organizations and roles");
        return app;
    }

    public static AccountResponse ToResponse(this Account a) => new(a.Id, a.Email, a.Username, a.FullName, a.Role, a.Status, a.CreatedAt);

    private static async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> Register(
        HttpRequest request, Caller caller, AccountRegistry registry, OutgoingMail mails, IOptions<EmailOptions> email, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<RegisterRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return BodyProblem(body.Error, body.Message!);
        }

        var r = body.Value!;
        var errors = registry.Validate(r.Email, r.Password, r.FullName, r.Role, r.Username);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var role = r.Role ?? AccountRoles.Researcher;
        if (!AccountRoles.SelfService.Contains(role) && !caller.IsAdmin)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Role needs an administrator",
                $"Only an administrator can create an account with the role '{role}'. Register as researcher or viewer, or ask an administrator.");
        }

        var (account, conflict) = await registry.CreateAsync(new NewAccount(r.Email!, r.Password!, r.FullName!, role, r.Username), caller.AccountId, cancellationToken);
        if (account is not null && email.Value.Verification != EmailVerification.Off)
        {
            mails.Enqueue(new MailJob.Verify(account.Id));
        }

        return conflict switch
        {
            // Registration must say the email is taken (CONTRACTS.md: 409); docs/security.md says why that is acceptable.
            RegistrationConflict.Email => Problems.Create(StatusCodes.Status409Conflict, "Email already registered",
                "An account with this email already exists. Log in at POST /api/v1/auth/login instead."),
            RegistrationConflict.Username => Problems.Create(StatusCodes.Status409Conflict, "Username taken",
                "Choose another username."),
            _ => TypedResults.Created($"/api/v1/admin/accounts/{account!.Id}", account.ToResponse()),
        };
    }

    private static async Task<Results<Ok<TokenPairResponse>, JsonHttpResult<MfaRequiredResponse>, ValidationProblem, ProblemHttpResult>> Login(
        HttpRequest request, CredentialChecker credentials, SessionTokens sessions, MultiFactor mfa, IOptions<TokenOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<LoginRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return BodyProblem(body.Error, body.Message!);
        }

        var r = body.Value!;
        var login = r.Email ?? r.Username;
        if (string.IsNullOrWhiteSpace(login) || string.IsNullOrEmpty(r.Password))
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                [string.IsNullOrEmpty(r.Password) && !string.IsNullOrWhiteSpace(login) ? "password" : "email"] =
                    ["Send {\"email\": \"...\", \"password\": \"...\"} (or \"username\" instead of \"email\")."],
            });
        }

        var result = await credentials.CheckAsync(login, r.Password, Dialect, cancellationToken);
        if (result.Failure == CredentialFailure.SsoRequired)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Single sign-on required", result.SsoMessage);
        }

        if (result.Failure == CredentialFailure.MfaRequired)
        {
            return MfaEndpoints.Required(await mfa.ChallengeAsync(result.Account!.Id, MfaChallengeKinds.Login, ClientId, cancellationToken));
        }

        if (!result.Succeeded)
        {
            return InvalidCredentials();
        }

        var tokens = await sessions.StartAsync(result.Account!,
            new SessionRequest(Dialect, ClientId, options.Value.AccessTokenLifetime, IssueRefreshToken: true, AuthenticationMethods: MultiFactor.PasswordOnly), cancellationToken);
        return TypedResults.Ok(new TokenPairResponse(tokens.Access.Token, tokens.RefreshToken!, "bearer", tokens.Access.ExpiresInSeconds));
    }

    private static async Task<Results<Ok<TokenPairResponse>, ValidationProblem, ProblemHttpResult>> Refresh(
        HttpRequest request, SessionTokens sessions, IOptions<TokenOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<RefreshRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return BodyProblem(body.Error, body.Message!);
        }

        if (string.IsNullOrEmpty(body.Value!.RefreshToken))
        {
            return Problems.Field("refresh_token", "Send {\"refresh_token\": \"...\"} with the refresh token from your last login or refresh.");
        }

        var outcome = await sessions.RefreshAsync(body.Value.RefreshToken, Dialect, ClientId, options.Value.AccessTokenLifetime, cancellationToken);
        if (outcome.Tokens is not { } tokens)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "Invalid refresh token",
                "The refresh token is unknown, expired, revoked or already used. Log in again at POST /api/v1/auth/login.");
        }

        return TypedResults.Ok(new TokenPairResponse(tokens.Access.Token, tokens.RefreshToken!, "bearer", tokens.Access.ExpiresInSeconds));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Logout(
        HttpRequest request, Caller caller, SessionTokens sessions, AuditLog audit, TokenServerDb db, CancellationToken cancellationToken)
    {
        var sid = request.HttpContext.User.FindFirstValue(TokenClaims.SessionId)!;
        var accountId = caller.AccountId;

        // The body is optional: a refresh token from another of the caller's sessions ends that one too.
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await LenientBody.ReadAsync<LogoutRequest>(request, cancellationToken);
            if (body.Error is BodyError.TooLarge or BodyError.Malformed)
            {
                return BodyProblem(body.Error, body.Message!);
            }

            if (body.Value?.RefreshToken is { Length: > 0 } refresh
                && await sessions.FindRefreshTokenSessionAsync(refresh, cancellationToken) is { } other
                && other.AccountId == accountId)
            {
                await sessions.RevokeSessionAsync(other.SessionId, RevocationReasons.Logout, cancellationToken);
            }
        }

        await sessions.RevokeSessionAsync(sid, RevocationReasons.Logout, cancellationToken);
        audit.Record(AuditEventTypes.Logout, accountId, dialect: Dialect);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> Me(HttpContext context, Caller caller, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        var me = caller.AccountId is { } id ? await accounts.FindAsync(id, context.RequestServices, cancellationToken) : null;
        return me is null
            ? Problems.Create(StatusCodes.Status404NotFound, "Account not found", "The account behind this token no longer exists.")
            : TypedResults.Ok(me.ToMe());
    }

    /// <summary>One answer for unknown account, wrong password, locked and disabled account (ARCHITECTURE.md habit 6).</summary>
    private static ProblemHttpResult InvalidCredentials() =>
        Problems.Create(StatusCodes.Status401Unauthorized, "Invalid credentials",
            "The email (or username) and password do not match an active account. Check them and try again.");

    internal static ProblemHttpResult BodyProblem(BodyError error, string message) =>
        error == BodyError.TooLarge
            ? Problems.Create(StatusCodes.Status413PayloadTooLarge, "Request body too large", message)
            : Problems.Create(StatusCodes.Status400BadRequest, "Unreadable request body", message);
}
