using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using TokenServer.Auth;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Email;

/// <summary>Builds the account mails and their single-use links.</summary>
public sealed class AccountMails(TokenServerDb db, IMailSender sender, IOptions<EmailOptions> options, IOptions<TokenOptions> tokenOptions, TimeProvider time)
{
    public const string ResetPath = "/account/reset-password";
    public const string VerifyPath = "/account/verify-email";

    public async Task SendAsync(MailJob job, CancellationToken cancellationToken)
    {
        switch (job)
        {
            case MailJob.Verify(var accountId):
                if (await db.Accounts.FirstOrDefaultAsync(a => a.Id == accountId && a.EmailVerifiedAt == null, cancellationToken) is { } created)
                {
                    await SendLinkAsync(created, AccountTokenPurposes.VerifyEmail, created.Email, cancellationToken);
                }

                break;
            case MailJob.VerifyAgain(var email):
                if (await FindActiveAsync(email, cancellationToken) is { EmailVerifiedAt: null } unverified)
                {
                    await SendLinkAsync(unverified, AccountTokenPurposes.VerifyEmail, unverified.Email, cancellationToken);
                }

                break;
            case MailJob.ResetPassword(var email):
                if (await FindActiveAsync(email, cancellationToken) is { } account)
                {
                    await SendLinkAsync(account, AccountTokenPurposes.ResetPassword, account.Email, cancellationToken);
                }

                break;
            case MailJob.ChangeEmail(var accountId, var newEmail):
                if (await db.Accounts.FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken) is { } changing)
                {
                    await SendLinkAsync(changing, AccountTokenPurposes.ChangeEmail, newEmail, cancellationToken);
                }

                break;
            case MailJob.EmailChanged(var oldEmail, var newEmail):
                await sender.SendAsync(Message(oldEmail, "Your TokenServer email address was changed",
                    $"""
                    The email address of your TokenServer account was changed to {newEmail}.

                    If you did not do this, someone else may control your account: reset your password
                    at once (POST /api/v1/auth/password/forgot with your new address, or ask an administrator).
                    """), cancellationToken);
                break;
        }
    }

    private Task<Account?> FindActiveAsync(string email, CancellationToken cancellationToken)
    {
        var normalized = CredentialChecker.Normalize(email);
        return db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized && a.Status == AccountStatuses.Active, cancellationToken);
    }

    private async Task SendLinkAsync(Account account, string purpose, string to, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var recent = now - o.MinimumInterval;
        if (await db.Set<AccountToken>().AnyAsync(t => t.AccountId == account.Id && t.Purpose == purpose && t.CreatedAt > recent, cancellationToken))
        {
            return;
        }

        var token = OpaqueTokens.Generate();
        var lifetime = purpose == AccountTokenPurposes.ResetPassword ? o.ResetLinkLifetime : o.VerificationLinkLifetime;
        db.Set<AccountToken>().Add(new AccountToken
        {
            AccountId = account.Id,
            Purpose = purpose,
            TokenHash = OpaqueTokens.Hash(token),
            Email = to,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);

        var baseUrl = (o.LinkBaseUrl ?? tokenOptions.Value.Issuer).TrimEnd('/');
        var resetBody = $"{{\"token\": \"{token}\", \"new_password\": \"...\"}}";
        var verifyBody = $"{{\"token\": \"{token}\"}}";
        var hours = lifetime.TotalHours.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        var message = purpose == AccountTokenPurposes.ResetPassword
            ? Message(to, "Reset your TokenServer password",
                $"""
                Someone (we hope you) asked to reset the password of your TokenServer account.

                Choose a new password here within {hours} hours; the link works once:
                {baseUrl}{ResetPath}?token={token}

                Or from a script:
                curl -X POST {tokenOptions.Value.Issuer.TrimEnd('/')}/api/v1/auth/password/reset -H 'Content-Type: application/json' -d '{resetBody}'

                Resetting ends every session and personal access token of the account.
                If you did not ask for this, ignore this mail: your password stays as it is.
                """)
            : Message(to, "Confirm your email address for TokenServer",
                $"""
                Confirm that {to} is your address for your TokenServer account within {hours} hours; the link works once:
                {baseUrl}{VerifyPath}?token={token}

                Or from a script:
                curl -X POST {tokenOptions.Value.Issuer.TrimEnd('/')}/api/v1/auth/email/verify -H 'Content-Type: application/json' -d '{verifyBody}'

                If you did not ask for this, ignore this mail.
                """);
        await sender.SendAsync(message, cancellationToken);
    }

    private MimeMessage Message(string to, string subject, string text)
    {
        var from = options.Value.Smtp.From is { } configured && MailboxAddress.TryParse(configured, out var parsed)
            ? parsed
            : new MailboxAddress("TokenServer", "no-reply@localhost");
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = text } };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(to));
        return message;
    }
}
