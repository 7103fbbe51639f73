using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Email;
using TokenServer.Mfa;
using TokenServer.Store;

namespace TokenServer.Auth;

public sealed class LockoutOptions
{
    public const string Section = "TokenServer:Lockout";

    /// <summary>Consecutive failures after which the account is locked.</summary>
    public int Threshold { get; set; } = 5;

    /// <summary>First lockout; each further failure doubles it.</summary>
    public TimeSpan BaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class LockoutOptionsValidator : IValidateOptions<LockoutOptions>
{
    public ValidateOptionsResult Validate(string? name, LockoutOptions o) =>
        o.Threshold >= 1 && o.BaseDuration > TimeSpan.Zero && o.MaxDuration >= o.BaseDuration
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("TokenServer:Lockout needs Threshold >= 1 and 0 < BaseDuration <= MaxDuration.");
}

public enum CredentialFailure
{
    None,
    InvalidCredentials,
    LockedOut,
    Disabled,

    /// <summary>
    /// The password is right but the account has MFA on: only a login that can ask for the
    /// second factor (the native login and password grant) goes on; every other front door
    /// fails as for a wrong password, in its own shape.
    /// </summary>
    MfaRequired,

    /// <summary>
    /// The password is right but <c>TokenServer:Email:Verification</c> is Required and the address
    /// is not verified yet: every front door answers as for a wrong password (CONTRACTS.md).
    /// </summary>
    EmailUnverified,
}

/// <summary>The account is set on success and when <see cref="CredentialFailure.MfaRequired"/>.</summary>
public sealed record CredentialResult(Account? Account, CredentialFailure Failure)
{
    public bool Succeeded => Failure == CredentialFailure.None;

    /// <summary>The password was right, whatever else stops the login: enough for a signed-in caller re-entering it.</summary>
    public bool PasswordMatched => Failure is CredentialFailure.None or CredentialFailure.MfaRequired;
}

/// <summary>
/// The one password check every front door uses. Unknown account, wrong password, locked
/// and disabled accounts all cost one BCrypt verification, and every front door maps every
/// failure to the same response, so neither body nor timing tells which it was.
/// </summary>
public sealed class CredentialChecker(
    TokenServerDb db,
    PasswordHasher hasher,
    AuditLog audit,
    MultiFactor mfa,
    IOptions<EmailOptions> email,
    IOptions<LockoutOptions> lockout,
    TimeProvider time)
{
    public static string Normalize(string value) => value.Trim().ToUpperInvariant();

    public async Task<CredentialResult> CheckAsync(string? login, string? password, string dialect, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(login) || string.IsNullOrEmpty(password) || login.Length > 320 || password.Length > 4096)
        {
            await hasher.VerifyDummyAsync(password ?? string.Empty, cancellationToken);
            return new CredentialResult(null, CredentialFailure.InvalidCredentials);
        }

        var normalized = Normalize(login);
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized || a.NormalizedUsername == normalized, cancellationToken);
        if (account is null)
        {
            await hasher.VerifyDummyAsync(password, cancellationToken);
            audit.Record(AuditEventTypes.LoginFailed, null, "unknown account", dialect: dialect);
            await db.SaveChangesAsync(cancellationToken);
            return new CredentialResult(null, CredentialFailure.InvalidCredentials);
        }

        var check = await hasher.VerifyAsync(password, account.PasswordHash, cancellationToken);
        var now = time.GetUtcNow();
        CredentialFailure failure;
        if (account.Status != AccountStatuses.Active)
        {
            failure = CredentialFailure.Disabled;
        }
        else if (account.LockoutEnd > now)
        {
            // During a lockout even the right password gets no token.
            failure = CredentialFailure.LockedOut;
        }
        else
        {
            failure = !check.Valid ? CredentialFailure.InvalidCredentials
                : email.Value.Verification == EmailVerification.Required && account.EmailVerifiedAt is null ? CredentialFailure.EmailUnverified
                : await mfa.IsOnAsync(account.Id, cancellationToken) ? CredentialFailure.MfaRequired
                : CredentialFailure.None;
        }

        if (failure is CredentialFailure.None or CredentialFailure.MfaRequired)
        {
            account.FailedLoginCount = 0;
            account.LockoutEnd = null;
            if (check.NeedsRehash)
            {
                account.PasswordHash = await hasher.HashAsync(password, cancellationToken);
            }

            if (failure == CredentialFailure.None)
            {
                account.LastLoginAt = now;
                audit.Record(AuditEventTypes.LoginSucceeded, account.Id, dialect: dialect);
            }
            else
            {
                audit.Record(AuditEventTypes.LoginFailed, account.Id, "second factor required", dialect: dialect);
            }
        }
        else
        {
            if (!check.Valid)
            {
                RegisterFailure(account, now);
            }

            audit.Record(AuditEventTypes.LoginFailed, account.Id, failure switch
            {
                CredentialFailure.Disabled => "account disabled",
                CredentialFailure.EmailUnverified => "email not verified",
                CredentialFailure.LockedOut => "account locked",
                _ => "wrong password",
            }, dialect: dialect);
        }

        await db.SaveChangesAsync(cancellationToken);
        return new CredentialResult(failure is CredentialFailure.None or CredentialFailure.MfaRequired ? account : null, failure);
    }

    private void RegisterFailure(Account account, DateTimeOffset now)
    {
        var o = lockout.Value;
        account.FailedLoginCount++;
        if (account.FailedLoginCount < o.Threshold)
        {
            return;
        }

        var doublings = Math.Min(account.FailedLoginCount - o.Threshold, 20);
        var duration = TimeSpan.FromTicks(Math.Min(o.BaseDuration.Ticks * (1L << doublings), o.MaxDuration.Ticks));
        account.LockoutEnd = now + duration;
        audit.Record(AuditEventTypes.LockedOut, account.Id, $"locked for {duration}");
    }
}
