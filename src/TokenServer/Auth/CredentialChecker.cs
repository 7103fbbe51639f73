using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Email;
using TokenServer.Hosting;
using TokenServer.Mfa;
using TokenServer.Store;

namespace TokenServer.Auth;

public sealed class LockoutOptions
{
    public const string Section = "TokenServer:Lockout";

    /// <summary>Consecutive failures for one login name from one client address after which that address is locked out of it.</summary>
    public int Threshold { get; set; } = 5;

    /// <summary>
    /// Failures for one login name from all addresses together after which it is locked for
    /// everyone: the ceiling that stops a guesser with many addresses (docs/security.md "Lockout").
    /// </summary>
    public int AccountThreshold { get; set; } = 100;

    /// <summary>First lockout; each further failure doubles it.</summary>
    public TimeSpan BaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class LockoutOptionsValidator : IValidateOptions<LockoutOptions>
{
    public ValidateOptionsResult Validate(string? name, LockoutOptions o) =>
        o.Threshold >= 1 && o.AccountThreshold >= o.Threshold && o.BaseDuration > TimeSpan.Zero && o.MaxDuration >= o.BaseDuration
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("TokenServer:Lockout needs Threshold >= 1, AccountThreshold >= Threshold and 0 < BaseDuration <= MaxDuration.");
}

public enum CredentialFailure
{
    None,
    InvalidCredentials,
    LockedOut,
    Disabled,

    /// <summary>The password is right, but the account belongs to an organization with single sign-on on: no token by password.</summary>
    SsoRequired,

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

/// <summary>What a password check is for: a login that hands out tokens, or re-entering the password to change it.</summary>
public enum CredentialUse
{
    Login,
    Reauthenticate,
}

/// <param name="Account">The account, when the check succeeded or <see cref="CredentialFailure.MfaRequired"/>.</param>
/// <param name="Failure">Why it failed, or <see cref="CredentialFailure.None"/>.</param>
/// <param name="SsoOrganization">With <see cref="CredentialFailure.SsoRequired"/>: the slug of the organization that requires single sign-on.</param>
public sealed record CredentialResult(Account? Account, CredentialFailure Failure, string? SsoOrganization = null)
{
    public bool Succeeded => Failure == CredentialFailure.None;

    /// <summary>The password was right, whatever else stops the login: enough for a signed-in caller re-entering it.</summary>
    public bool PasswordMatched => Failure is CredentialFailure.None or CredentialFailure.MfaRequired;

    /// <summary>What every front door says, in its own shape, to a member of a single sign-on organization who logged in by password.</summary>
    public string SsoMessage =>
        $"Single sign-on is enabled for organization '{SsoOrganization}', so password login is disabled. Sign in through your identity provider and take the four-hour token from your account page (POST /api/v1/auth/personal-token).";
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
    LoginThrottles throttles,
    MultiFactor mfa,
    IOptions<EmailOptions> email,
    IHttpContextAccessor http,
    TimeProvider time)
{
    public static string Normalize(string value) => value.Trim().ToUpperInvariant();

    /// <summary>
    /// Checks a password. While a lock applies to this login name from this client address the
    /// answer carries <c>Retry-After</c> with the lock's remaining time: the same for an unknown
    /// name and a known one, and for a right and a wrong password, so it tells nobody whether the
    /// account exists or the password was right, and tells its owner when to try again
    /// (docs/security.md "Lockout").
    /// </summary>
    public async Task<CredentialResult> CheckAsync(string? login, string? password, string dialect, CancellationToken cancellationToken, CredentialUse use = CredentialUse.Login)
    {
        if (string.IsNullOrWhiteSpace(login) || string.IsNullOrEmpty(password) || login.Length > 320 || password.Length > 4096)
        {
            await hasher.VerifyDummyAsync(password ?? string.Empty, cancellationToken);
            return new CredentialResult(null, CredentialFailure.InvalidCredentials);
        }

        var normalized = Normalize(login);
        var loginHash = LoginThrottles.HashOf(normalized);
        var address = ClientAddress.PartitionOf(http.HttpContext?.Connection.RemoteIpAddress);
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized || a.NormalizedUsername == normalized, cancellationToken);
        var check = account is null
            ? new PasswordCheck(false, false)
            : await hasher.VerifyAsync(password, account.PasswordHash, cancellationToken);
        if (account is null)
        {
            // The same work as a real check, so timing does not tell (ARCHITECTURE.md habit 6).
            await hasher.VerifyDummyAsync(password, cancellationToken);
        }

        var now = time.GetUtcNow();
        var lockedUntil = await throttles.LockedUntilAsync(loginHash, address, now, cancellationToken);
        CredentialFailure failure;
        if (account is null)
        {
            failure = CredentialFailure.InvalidCredentials;
        }
        else if (account.Status != AccountStatuses.Active)
        {
            failure = CredentialFailure.Disabled;
        }
        else if (lockedUntil is not null)
        {
            // During a lockout even the right password gets no token.
            failure = CredentialFailure.LockedOut;
        }
        else
        {
            failure = !check.Valid ? CredentialFailure.InvalidCredentials
                : email.Value.Verification == EmailVerification.Required && account.EmailVerifiedAt is null ? CredentialFailure.EmailUnverified
                : CredentialFailure.None;
        }

        if (!check.Valid)
        {
            var (newLock, accountWide) = await throttles.RecordFailureAsync(loginHash, address, now, cancellationToken);
            if (newLock is not null && (lockedUntil is null || newLock > lockedUntil))
            {
                lockedUntil = newLock;
                audit.Record(AuditEventTypes.LockedOut, account?.Id, $"locked until {newLock:O} {(accountWide ? "from every address" : "from " + address)}");
                if (accountWide && account is not null)
                {
                    await db.WriteAsync(() => db.Accounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(u => u.SetProperty(a => a.LockoutEnd, newLock), cancellationToken), cancellationToken);
                }
            }
        }

        if (lockedUntil is { } end && http.HttpContext is { } context)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling((end - now).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        string? sso = null;
        if (failure == CredentialFailure.None && use == CredentialUse.Login)
        {
            // Only after the password matched, so the answer reveals the organization to nobody
            // who does not know it.
            sso = await db.Memberships.AsNoTracking().Where(m => m.AccountId == account!.Id && m.Organization.SsoEnabled)
                .Select(m => m.Organization.Slug).OrderBy(slug => slug).FirstOrDefaultAsync(cancellationToken);
            if (sso is not null)
            {
                failure = CredentialFailure.SsoRequired;
            }
            else if (await mfa.IsOnAsync(account!.Id, cancellationToken))
            {
                failure = CredentialFailure.MfaRequired;
            }
        }

        if (check.Valid && lockedUntil is null)
        {
            await throttles.ClearAsync(loginHash, address, cancellationToken);
        }

        if (failure == CredentialFailure.None)
        {
            await RecordLoginAsync(account!, password, check.NeedsRehash, now, cancellationToken);
            audit.Record(AuditEventTypes.LoginSucceeded, account!.Id, dialect: dialect);
        }
        else
        {
            audit.Record(AuditEventTypes.LoginFailed, account?.Id, failure switch
            {
                CredentialFailure.Disabled => "account disabled",
                CredentialFailure.LockedOut => "account locked",
                CredentialFailure.EmailUnverified => "email not verified",
                CredentialFailure.MfaRequired => "second factor required",
                CredentialFailure.SsoRequired => $"password login refused: organization {sso} requires single sign-on",
                _ when account is null => "unknown account",
                _ => "wrong password",
            }, dialect: dialect);
        }

        await db.SaveChangesAsync(cancellationToken);
        return new CredentialResult(failure is CredentialFailure.None or CredentialFailure.MfaRequired ? account : null, failure, sso);
    }

    /// <summary>
    /// Straight UPDATEs, not the tracked entity: a login that races a password change or an admin's
    /// change of the account must neither fail on the account's concurrency token nor overwrite
    /// what they wrote. The rehash (a stronger work factor) lands only if the password is still
    /// the one just checked.
    /// </summary>
    private async Task RecordLoginAsync(Account account, string password, bool rehash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var stamp = account.SecurityStamp;
        var newHash = rehash ? await hasher.HashAsync(password, cancellationToken) : null;
        await db.WriteAsync(
            async () =>
            {
                await db.Accounts.Where(a => a.Id == account.Id)
                    .ExecuteUpdateAsync(u => u.SetProperty(a => a.LastLoginAt, now).SetProperty(a => a.LockoutEnd, (DateTimeOffset?)null), cancellationToken);
                return newHash is null
                    ? 0
                    : await db.Accounts.Where(a => a.Id == account.Id && a.SecurityStamp == stamp)
                        .ExecuteUpdateAsync(u => u.SetProperty(a => a.PasswordHash, newHash), cancellationToken);
            },
            cancellationToken);
        account.LastLoginAt = now;
        account.LockoutEnd = null;
        account.PasswordHash = newHash ?? account.PasswordHash;
        db.Entry(account).State = EntityState.Unchanged;

        // Straight UPDATEs pass no change tracker: record the change, so cached profiles
        // (last_login_at) are forgotten here and on the other instances when the audit is saved.
        db.AccountChanges.Add(new AccountChange { AccountId = account.Id, ChangedAt = now });
    }
}
