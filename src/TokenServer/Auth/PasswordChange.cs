using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Auth;

/// <summary>A person changing their own password: used by <c>POST /api/v1/auth/password</c> and the account page.</summary>
public sealed class PasswordChange(
    TokenServerDb db, CredentialChecker credentials, PasswordHasher hasher, SessionTokens sessions, AuditLog audit, IOptions<PasswordOptions> passwordOptions)
{
    public const string CurrentPasswordField = "current_password";
    public const string NewPasswordField = "new_password";

    /// <summary>Not a field: the account itself is gone (deleted while its token was still live).</summary>
    public const string AccountGone = "account";

    /// <summary>
    /// Checks the current password, sets the new one and ends every session of the account but
    /// <paramref name="keepSessionId"/>; answers null on success, else the field at fault.
    /// </summary>
    public async Task<FieldError?> ChangeAsync(long accountId, string? keepSessionId, string? currentPassword, string? newPassword, string dialect, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(currentPassword))
        {
            return new FieldError(CurrentPasswordField, "Give your current password.");
        }

        var email = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => a.Email).FirstOrDefaultAsync(cancellationToken);
        if (email is null)
        {
            return new FieldError(AccountGone, "The account behind this token no longer exists.");
        }

        // The one password check (lockout and audit included), so a stolen access token or an
        // unattended browser cannot be used to guess the password faster than the login allows.
        var check = await credentials.CheckAsync(email, currentPassword, dialect, cancellationToken, CredentialUse.Reauthenticate);
        if (!check.PasswordMatched)
        {
            return new FieldError(CurrentPasswordField, "The current password is wrong (or the account is locked for a while after too many wrong passwords). Check it and try again.");
        }

        var account = check.Account!;
        if (PasswordPolicy.Check(newPassword, account.Email, passwordOptions.Value) is { } problem)
        {
            return new FieldError(NewPasswordField, problem);
        }

        if (string.Equals(newPassword, currentPassword, StringComparison.Ordinal))
        {
            return new FieldError(NewPasswordField, "Choose a password different from the current one.");
        }

        account.PasswordHash = await hasher.HashAsync(newPassword!, cancellationToken);
        account.SecurityStamp = Guid.NewGuid().ToString("N");
        audit.Record(AuditEventTypes.PasswordChanged, account.Id, actorId: account.Id, dialect: dialect);
        await db.SaveChangesAsync(cancellationToken);

        // ASVS V3.3.3: a password change ends every other session, and with them every access
        // token they issued (their sid is revoked); the caller's own session stays.
        await sessions.RevokeAccountSessionsAsync(account.Id, keepSessionId, RevocationReasons.PasswordChanged, cancellationToken);
        return null;
    }
}
