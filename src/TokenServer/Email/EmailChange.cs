using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Email;

/// <summary>
/// A person asking to move their account to a new address (<c>POST /api/v1/auth/email</c> and the
/// account page): the password again, then a confirmation link to the new address
/// (<see cref="MailJob.ChangeEmail"/>); the address changes only when that link is followed.
/// </summary>
public sealed class EmailChange(TokenServerDb db, CredentialChecker credentials, OutgoingMail mails)
{
    public const string NewEmailField = "new_email";
    public const string PasswordField = "password";

    /// <summary>Null when the link was queued; else the field at fault. Taken is set when another account has the address.</summary>
    public async Task<(FieldError? Error, bool Taken)> RequestAsync(long accountId, string? newEmail, string? password, string dialect, CancellationToken cancellationToken)
    {
        newEmail = newEmail?.Trim();
        if (newEmail is not { Length: > 3 and <= 320 } || !MimeKit.MailboxAddress.TryParse(newEmail, out var parsed) || parsed.Address != newEmail || !newEmail.Contains('@', StringComparison.Ordinal))
        {
            return (new FieldError(NewEmailField, "Give the new address, for example \"name@example.org\"."), false);
        }

        var email = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => a.Email).FirstAsync(cancellationToken);

        // The password again, through the one password check (lockout and audit included), so a
        // stolen access token or an unattended browser cannot move the account to another mailbox.
        var check = await credentials.CheckAsync(email, password, dialect, cancellationToken, CredentialUse.Reauthenticate);
        if (!check.PasswordMatched)
        {
            return (new FieldError(PasswordField, "Give your current password; it was wrong (or the account is locked for a while)."), false);
        }

        var normalized = CredentialChecker.Normalize(newEmail);
        if (await db.Accounts.AnyAsync(a => a.Id != accountId && (a.NormalizedEmail == normalized || a.NormalizedUsername == normalized), cancellationToken))
        {
            // As registration does (CONTRACTS.md: 409; docs/security.md says why that is acceptable).
            return (new FieldError(NewEmailField, "Another account has this address. Choose another."), true);
        }

        mails.Enqueue(new MailJob.ChangeEmail(accountId, newEmail));
        return (null, false);
    }
}
