using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Users;
using TokenServer.Tokens;

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

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Reset(
        HttpRequest request, TokenServerDb db, PasswordHasher hasher, SessionTokens sessions, PersonalAccessTokenRevocation personalTokens,
        AuditLog audit, LoginThrottles throttles, IOptions<PasswordOptions> passwordOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<PasswordResetRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var (row, problem) = await FindTokenAsync(db, body.Value?.Token, [AccountTokenPurposes.ResetPassword], time.GetUtcNow(), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == row!.AccountId, cancellationToken);
        if (PasswordPolicy.Check(body.Value!.NewPassword, account.Email, passwordOptions.Value) is { } weak)
        {
            return Problems.Field("new_password", weak);
        }

        var now = time.GetUtcNow();
        if (!await SpendAsync(db, row!.Id, now, cancellationToken))
        {
            return InvalidLink();
        }

        account.PasswordHash = await hasher.HashAsync(body.Value.NewPassword!, cancellationToken);
        account.SecurityStamp = Guid.NewGuid().ToString("N");
        await throttles.ClearAccountAsync(account, cancellationToken);
        account.LockoutEnd = null;

        // The mail reached the account's address, so the address is proven too.
        account.EmailVerifiedAt ??= now;
        audit.Record(AuditEventTypes.PasswordReset, account.Id, dialect: AuthEndpoints.Dialect);
        await db.SaveChangesAsync(cancellationToken);

        // Other reset links of the account stop working, and (ASVS V3.3.3) so does every way in
        // made with the old password: sessions with their tokens, and personal access tokens.
        await db.WriteAsync(
            () => db.Set<AccountToken>().Where(t => t.AccountId == account.Id && t.Purpose == AccountTokenPurposes.ResetPassword && t.UsedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken),
            cancellationToken);
        await sessions.RevokeAccountSessionsAsync(account.Id, null, RevocationReasons.PasswordReset, cancellationToken);
        await personalTokens.RevokeAllAsync(account.Id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Verify(
        HttpRequest request, TokenServerDb db, OutgoingMail mails, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<EmailTokenRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var now = time.GetUtcNow();
        var (row, problem) = await FindTokenAsync(db, body.Value?.Token, [AccountTokenPurposes.VerifyEmail, AccountTokenPurposes.ChangeEmail], now, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == row!.AccountId, cancellationToken);
        var oldEmail = account.Email;
        var normalized = CredentialChecker.Normalize(row!.Email);
        if (row.Purpose == AccountTokenPurposes.ChangeEmail
            && await db.Accounts.AnyAsync(a => a.Id != account.Id && (a.NormalizedEmail == normalized || a.NormalizedUsername == normalized), cancellationToken))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Email already registered",
                "Another account took this address after the change was asked for. Choose another address.");
        }

        if (!await SpendAsync(db, row.Id, now, cancellationToken))
        {
            return InvalidLink();
        }

        if (row.Purpose == AccountTokenPurposes.ChangeEmail)
        {
            account.Email = row.Email;
            account.NormalizedEmail = normalized;
            account.SecurityStamp = Guid.NewGuid().ToString("N");
            audit.Record(EmailAuditEvents.EmailChanged, account.Id, actorId: account.Id);
            mails.Enqueue(new MailJob.EmailChanged(oldEmail, row.Email));
        }
        else if (!string.Equals(CredentialChecker.Normalize(account.Email), normalized, StringComparison.Ordinal))
        {
            // The address changed since this link was sent; it proves nothing about the new one.
            return InvalidLink();
        }

        account.EmailVerifiedAt = now;
        audit.Record(EmailAuditEvents.EmailVerified, account.Id);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

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

    private static async Task<(AccountToken? Row, ProblemHttpResult? Problem)> FindTokenAsync(
        TokenServerDb db, string? token, string[] purposes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!OpaqueTokens.LooksValid(token))
        {
            return (null, InvalidLink());
        }

        var hash = OpaqueTokens.Hash(token!);
        var row = await db.Set<AccountToken>().AsNoTracking()
            .FirstOrDefaultAsync(t => t.TokenHash == hash && purposes.Contains(t.Purpose) && t.UsedAt == null && t.ExpiresAt > now, cancellationToken);
        return row is null ? (null, InvalidLink()) : (row, null);
    }

    /// <summary>Spends a link by a conditional update: of two concurrent uses exactly one wins.</summary>
    private static async Task<bool> SpendAsync(TokenServerDb db, long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.WriteAsync(
            () => db.Set<AccountToken>().Where(t => t.Id == id && t.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken),
            cancellationToken) == 1;

    private static ProblemHttpResult InvalidLink() =>
        Problems.Create(StatusCodes.Status400BadRequest, "Invalid or expired link",
            "This token is unknown, expired or already used. Ask for a new mail (POST /api/v1/auth/password/forgot or /api/v1/auth/email/verify/resend).");
}
