using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
using TokenServer.Users;

namespace TokenServer.Email;

/// <summary>Password reset, email verification and email change (CONTRACTS.md "MFA, password reset, email verification").</summary>
public static class EmailEndpoints
{
    public static IEndpointRouteBuilder MapEmail(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("Email and password reset").WithNoStore().RequireCredentialRateLimit();
        group.MapPost("/password/forgot", Forgot).DocumentsBody<EmailAddressRequest>("application/json")
            .WithSummary("Mail a single-use password-reset link to this address (202 whether or not it has an account)");
        group.MapPost("/password/reset", Reset).DocumentsBody<PasswordResetRequest>("application/json")
            .WithSummary("Set a new password with the token from the reset mail; every session and personal access token of the account ends");
        group.MapPost("/email/verify", Verify).DocumentsBody<EmailTokenRequest>("application/json")
            .WithSummary("Confirm an address with the token from a verification or email-change mail");
        group.MapPost("/email/verify/resend", Resend).DocumentsBody<EmailAddressRequest>("application/json")
            .WithSummary("Mail a new verification link to an unverified address (202 whether or not it has an account)");
        group.MapPost("/email", Change).RequireAuthorization().RefusePersonalAccessTokens().DocumentsBody<EmailChangeRequest>("application/json")
            .WithSummary("Change the account's address: a confirmation link goes to the new one, a notice to the old one once confirmed");
        return app;
    }

    /// <summary>
    /// One answer whether or not the address has an account, given before anything is looked up
    /// (ARCHITECTURE.md habit 6): the lookup and the mail happen in the background (<see cref="OutgoingMail"/>).
    /// </summary>
    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> Forgot(HttpRequest request, OutgoingMail mails, CancellationToken cancellationToken) =>
        await QueueForAddressAsync(request, email => new MailJob.ResetPassword(email), mails, cancellationToken);

    /// <inheritdoc cref="Forgot"/>
    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> Resend(HttpRequest request, OutgoingMail mails, CancellationToken cancellationToken) =>
        await QueueForAddressAsync(request, email => new MailJob.VerifyAgain(email), mails, cancellationToken);

    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> QueueForAddressAsync(
        HttpRequest request, Func<string, MailJob> job, OutgoingMail mails, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<EmailAddressRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        if (body.Value?.Email?.Trim() is not { Length: > 0 and <= 320 } email || !email.Contains('@', StringComparison.Ordinal))
        {
            return Problems.Field("email", "Send {\"email\": \"...\"} with the address of the account.");
        }

        mails.Enqueue(job(email));
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Reset(HttpRequest request, AccountLinks links, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<PasswordResetRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        return ToResult(await links.ResetPasswordAsync(body.Value?.Token, body.Value?.NewPassword, AuthEndpoints.Dialect, cancellationToken));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Verify(HttpRequest request, AccountLinks links, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<EmailTokenRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        return ToResult(await links.VerifyEmailAsync(body.Value?.Token, cancellationToken));
    }

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> ToResult(LinkResult result) => result.Outcome switch
    {
        LinkOutcome.Done => TypedResults.NoContent(),
        LinkOutcome.WeakPassword => Problems.Field("new_password", result.Message!),
        LinkOutcome.AddressTaken => Problems.Create(StatusCodes.Status409Conflict, "Email already registered",
            "Another account took this address after the change was asked for. Choose another address."),
        _ => Problems.Create(StatusCodes.Status400BadRequest, "Invalid or expired link",
            "This token is unknown, expired or already used. Ask for a new mail (POST /api/v1/auth/password/forgot or /api/v1/auth/email/verify/resend)."),
    };

    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> Change(
        HttpRequest request, Caller caller, EmailChange change, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<EmailChangeRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var (error, taken) = await change.RequestAsync(caller.AccountId!.Value, body.Value!.NewEmail, body.Value.Password, AuthEndpoints.Dialect, cancellationToken);
        return error switch
        {
            null => TypedResults.Accepted((string?)null),
            _ when taken => Problems.Create(StatusCodes.Status409Conflict, "Email already registered", error.Message),
            _ => Problems.Field(error.Field, error.Message),
        };
    }
}
