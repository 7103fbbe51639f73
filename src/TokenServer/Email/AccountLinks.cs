using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Email;

/// <summary>What following a mailed link answers: success, or what went wrong.</summary>
public enum LinkOutcome
{
    Done,

    /// <summary>Unknown, expired or already used: the same answer for each (nothing to probe).</summary>
    InvalidLink,

    /// <summary>The new password breaks the password rules (<see cref="LinkResult.Message"/> says which).</summary>
    WeakPassword,

    /// <summary>An email change whose address another account took meanwhile.</summary>
    AddressTaken,
}

public sealed record LinkResult(LinkOutcome Outcome, string? Message = null);

/// <summary>
/// Following the single-use links mailed by <see cref="AccountMails"/>: a password reset and an
/// address confirmation. The API routes (<c>/api/v1/auth/password/reset</c>, <c>/email/verify</c>)
/// and the link pages (<see cref="AccountMails.ResetPath"/>, <see cref="AccountMails.VerifyPath"/>) both call it.
/// </summary>
public sealed class AccountLinks(
    TokenServerDb db, PasswordHasher hasher, SessionTokens sessions, PersonalAccessTokenRevocation personalTokens,
    OutgoingMail mails, AuditLog audit, LoginThrottles throttles, IOptions<PasswordOptions> passwordOptions, TimeProvider time)
{
    public async Task<LinkResult> ResetPasswordAsync(string? token, string? newPassword, string dialect, CancellationToken cancellationToken)
    {
        var row = await FindAsync(token, [AccountTokenPurposes.ResetPassword], time.GetUtcNow(), cancellationToken);
        if (row is null)
        {
            return new LinkResult(LinkOutcome.InvalidLink);
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == row.AccountId, cancellationToken);
        if (PasswordPolicy.Check(newPassword, account.Email, passwordOptions.Value) is { } weak)
        {
            return new LinkResult(LinkOutcome.WeakPassword, weak);
        }

        var now = time.GetUtcNow();
        if (!await SpendAsync(row.Id, now, cancellationToken))
        {
            return new LinkResult(LinkOutcome.InvalidLink);
        }

        account.PasswordHash = await hasher.HashAsync(newPassword!, cancellationToken);
        account.SecurityStamp = Guid.NewGuid().ToString("N");
        await throttles.ClearAccountAsync(account, cancellationToken);
        account.LockoutEnd = null;

        // The mail reached the account's address, so the address is proven too.
        account.EmailVerifiedAt ??= now;
        audit.Record(AuditEventTypes.PasswordReset, account.Id, dialect: dialect);
        await db.SaveChangesAsync(cancellationToken);

        // Other reset links of the account stop working, and (ASVS V3.3.3) so does every way in
        // made with the old password: sessions with their tokens, and personal access tokens.
        await db.WriteAsync(
            () => db.Set<AccountToken>().Where(t => t.AccountId == account.Id && t.Purpose == AccountTokenPurposes.ResetPassword && t.UsedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken),
            cancellationToken);
        await sessions.RevokeAccountSessionsAsync(account.Id, null, RevocationReasons.PasswordReset, cancellationToken);
        await personalTokens.RevokeAllAsync(account.Id, cancellationToken);
        return new LinkResult(LinkOutcome.Done);
    }

    public async Task<LinkResult> VerifyEmailAsync(string? token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = await FindAsync(token, [AccountTokenPurposes.VerifyEmail, AccountTokenPurposes.ChangeEmail], now, cancellationToken);
        if (row is null)
        {
            return new LinkResult(LinkOutcome.InvalidLink);
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == row.AccountId, cancellationToken);
        var oldEmail = account.Email;
        var normalized = CredentialChecker.Normalize(row.Email);
        if (row.Purpose == AccountTokenPurposes.ChangeEmail
            && await db.Accounts.AnyAsync(a => a.Id != account.Id && (a.NormalizedEmail == normalized || a.NormalizedUsername == normalized), cancellationToken))
        {
            return new LinkResult(LinkOutcome.AddressTaken);
        }

        if (!await SpendAsync(row.Id, now, cancellationToken))
        {
            return new LinkResult(LinkOutcome.InvalidLink);
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
            return new LinkResult(LinkOutcome.InvalidLink);
        }

        account.EmailVerifiedAt = now;
        audit.Record(EmailAuditEvents.EmailVerified, account.Id);
        await db.SaveChangesAsync(cancellationToken);
        return new LinkResult(LinkOutcome.Done);
    }

    private async Task<AccountToken?> FindAsync(string? token, string[] purposes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!OpaqueTokens.LooksValid(token))
        {
            return null;
        }

        var hash = OpaqueTokens.Hash(token!);
        return await db.Set<AccountToken>().AsNoTracking()
            .FirstOrDefaultAsync(t => t.TokenHash == hash && purposes.Contains(t.Purpose) && t.UsedAt == null && t.ExpiresAt > now, cancellationToken);
    }

    /// <summary>Spends a link by a conditional update: of two concurrent uses exactly one wins.</summary>
    private async Task<bool> SpendAsync(long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.WriteAsync(
            () => db.Set<AccountToken>().Where(t => t.Id == id && t.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken),
            cancellationToken) == 1;
}
