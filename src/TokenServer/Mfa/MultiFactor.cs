using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Mfa;

public static class MfaAuditEvents
{
    public const string Enabled = "mfa.enabled";
    public const string Disabled = "mfa.disabled";
    public const string Challenged = "mfa.challenged";
    public const string Passed = "mfa.passed";
    public const string Failed = "mfa.failed";
    public const string RecoveryCodeUsed = "mfa.recovery_code_used";
}

public enum MfaState
{
    Off,
    Pending,
    On,
}

/// <summary>TOTP enrolment and the second step of a login (CONTRACTS.md "MFA, password reset, email verification").</summary>
public sealed class MultiFactor(TokenServerDb db, IDataProtectionProvider protection, AuditLog audit, TimeProvider time)
{
    /// <summary>How long an <c>mfa_token</c> may be answered: time to open an authenticator app, not to guess.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Wrong codes one <c>mfa_token</c> survives; then the password must be given again (which counts toward lockout).</summary>
    public const int MaxAttempts = 5;

    /// <summary>The amr (RFC 8176 §2) of a login that passed the second step: a TOTP or a recovery code, both one-time passwords.</summary>
    public static readonly IReadOnlyList<string> PasswordAndOtp = ["pwd", "otp"];

    public static readonly IReadOnlyList<string> PasswordOnly = ["pwd"];

    private IDataProtector Protector => protection.CreateProtector("TokenServer.Mfa.TotpSecret");

    /// <summary>The label authenticator apps show above the code.</summary>
    public const string Issuer = "TokenServer";

    public Task<bool> IsOnAsync(long accountId, CancellationToken cancellationToken) =>
        db.Set<TotpAuthenticator>().AnyAsync(t => t.AccountId == accountId && t.ConfirmedAt != null, cancellationToken);

    /// <summary>Whether the account has no authenticator, one awaiting its first code, or MFA on.</summary>
    public async Task<MfaState> StateAsync(long accountId, CancellationToken cancellationToken)
    {
        var confirmedAt = await db.Set<TotpAuthenticator>().AsNoTracking().Where(t => t.AccountId == accountId)
            .Select(t => new { t.ConfirmedAt }).FirstOrDefaultAsync(cancellationToken);
        return confirmedAt is null ? MfaState.Off : confirmedAt.ConfirmedAt is null ? MfaState.Pending : MfaState.On;
    }

    /// <summary>
    /// Starts enrolment (<see cref="EnrolAsync"/>) and answers what an authenticator app needs:
    /// the secret in base32 and its otpauth URI labelled with the account's address. Null if MFA is already on.
    /// </summary>
    public async Task<TotpEnrolmentResponse?> StartEnrolmentAsync(long accountId, CancellationToken cancellationToken)
    {
        var email = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Email).FirstAsync(cancellationToken);
        return await EnrolAsync(accountId, cancellationToken) is { } secret
            ? new TotpEnrolmentResponse(TotpCodes.Base32(secret), TotpCodes.KeyUri(secret, Issuer, email))
            : null;
    }

    /// <summary>A new secret, pending until confirmed; replaces an unconfirmed one. Null if MFA is already on.</summary>
    public async Task<byte[]?> EnrolAsync(long accountId, CancellationToken cancellationToken)
    {
        var existing = await db.Set<TotpAuthenticator>().FirstOrDefaultAsync(t => t.AccountId == accountId, cancellationToken);
        if (existing?.ConfirmedAt is not null)
        {
            return null;
        }

        var secret = TotpCodes.NewSecret();
        var protectedSecret = Protector.Protect(Convert.ToBase64String(secret));
        if (existing is null)
        {
            db.Set<TotpAuthenticator>().Add(new TotpAuthenticator { AccountId = accountId, ProtectedSecret = protectedSecret, CreatedAt = time.GetUtcNow() });
        }
        else
        {
            existing.ProtectedSecret = protectedSecret;
            existing.CreatedAt = time.GetUtcNow();
            existing.LastUsedStep = 0;
        }

        await db.SaveChangesAsync(cancellationToken);
        return secret;
    }

    /// <summary>Turns MFA on with the first code of the pending secret; answers the recovery codes, or null if the code is wrong or nothing is pending.</summary>
    public async Task<IReadOnlyList<string>?> ConfirmAsync(long accountId, string code, CancellationToken cancellationToken)
    {
        var pending = await db.Set<TotpAuthenticator>().FirstOrDefaultAsync(t => t.AccountId == accountId && t.ConfirmedAt == null, cancellationToken);
        var now = time.GetUtcNow();
        if (pending is null || TotpCodes.Verify(SecretOf(pending), code, now) is not { } step)
        {
            return null;
        }

        pending.ConfirmedAt = now;
        pending.LastUsedStep = step;
        var codes = Enumerable.Range(0, RecoveryCodes.Count).Select(_ => RecoveryCodes.Generate()).ToList();
        await db.WriteAsync(() => db.Set<RecoveryCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken), cancellationToken);
        db.Set<RecoveryCode>().AddRange(codes.Select(c => new RecoveryCode { AccountId = accountId, CodeHash = RecoveryCodes.Hash(RecoveryCodes.Normalize(c)!) }));
        audit.Record(MfaAuditEvents.Enabled, accountId, "totp");
        await db.SaveChangesAsync(cancellationToken);
        return codes;
    }

    /// <summary>Turns MFA off if the code (TOTP or recovery) is right.</summary>
    public async Task<bool> DisableAsync(long accountId, string code, CancellationToken cancellationToken)
    {
        if (!await CheckSecondFactorAsync(accountId, code, cancellationToken))
        {
            return false;
        }

        await db.WriteAsync(() => db.Set<RecoveryCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken), cancellationToken);
        await db.WriteAsync(() => db.Set<TotpAuthenticator>().Where(t => t.AccountId == accountId).ExecuteDeleteAsync(cancellationToken), cancellationToken);
        audit.Record(MfaAuditEvents.Disabled, accountId);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Starts the second step of a login whose password was right; answers the <c>mfa_token</c>.</summary>
    public async Task<string> ChallengeAsync(long accountId, string kind, string clientId, CancellationToken cancellationToken)
    {
        var token = OpaqueTokens.Generate();
        db.Set<MfaChallenge>().Add(new MfaChallenge
        {
            AccountId = accountId,
            TokenHash = OpaqueTokens.Hash(token),
            Kind = kind,
            ClientId = clientId,
            ExpiresAt = time.GetUtcNow() + ChallengeLifetime,
        });
        audit.Record(MfaAuditEvents.Challenged, accountId);
        await db.SaveChangesAsync(cancellationToken);
        return token;
    }

    /// <summary>
    /// Answers a challenge: the account and the challenge if the code is right, else null. Each
    /// attempt is counted before the code is checked, and a right answer consumes the challenge
    /// by a conditional update, so two concurrent answers cannot both log in.
    /// </summary>
    public async Task<(Account Account, MfaChallenge Challenge)?> AnswerAsync(string? mfaToken, string code, CancellationToken cancellationToken)
    {
        if (!OpaqueTokens.LooksValid(mfaToken))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var hash = OpaqueTokens.Hash(mfaToken!);
        var challenge = await db.Set<MfaChallenge>().AsNoTracking()
            .FirstOrDefaultAsync(c => c.TokenHash == hash && c.ConsumedAt == null && c.ExpiresAt > now && c.Attempts < MaxAttempts, cancellationToken);
        if (challenge is null)
        {
            return null;
        }

        var counted = await db.WriteAsync(
            () => db.Set<MfaChallenge>().Where(c => c.Id == challenge.Id && c.ConsumedAt == null && c.Attempts < MaxAttempts)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Attempts, c => c.Attempts + 1), cancellationToken),
            cancellationToken);
        if (counted != 1 || !await CheckSecondFactorAsync(challenge.AccountId, code, cancellationToken))
        {
            audit.Record(MfaAuditEvents.Failed, challenge.AccountId);
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }

        var consumed = await db.WriteAsync(
            () => db.Set<MfaChallenge>().Where(c => c.Id == challenge.Id && c.ConsumedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now), cancellationToken),
            cancellationToken);
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == challenge.AccountId && a.Status == AccountStatuses.Active, cancellationToken);
        if (consumed != 1 || account is null)
        {
            return null;
        }

        account.LastLoginAt = now;
        audit.Record(MfaAuditEvents.Passed, account.Id);
        return (account, challenge);
    }

    /// <summary>
    /// A TOTP code of a step after the last one accepted (RFC 6238 §5.2: a code is accepted once),
    /// or an unused recovery code; either is spent by a conditional update.
    /// </summary>
    private async Task<bool> CheckSecondFactorAsync(long accountId, string code, CancellationToken cancellationToken)
    {
        var authenticator = await db.Set<TotpAuthenticator>().AsNoTracking().FirstOrDefaultAsync(t => t.AccountId == accountId && t.ConfirmedAt != null, cancellationToken);
        if (authenticator is null)
        {
            return false;
        }

        var trimmed = code.Trim();
        if (trimmed.Length == TotpCodes.Digits)
        {
            if (TotpCodes.Verify(SecretOf(authenticator), trimmed, time.GetUtcNow()) is not { } step || step <= authenticator.LastUsedStep)
            {
                return false;
            }

            return await db.WriteAsync(
                () => db.Set<TotpAuthenticator>().Where(t => t.AccountId == accountId && t.LastUsedStep < step)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedStep, step), cancellationToken),
                cancellationToken) == 1;
        }

        if (RecoveryCodes.Normalize(trimmed) is not { } normalized)
        {
            return false;
        }

        var hash = RecoveryCodes.Hash(normalized);
        var now = time.GetUtcNow();
        var spent = await db.WriteAsync(
            () => db.Set<RecoveryCode>().Where(c => c.AccountId == accountId && c.CodeHash == hash && c.UsedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), cancellationToken),
            cancellationToken) == 1;
        if (spent)
        {
            audit.Record(MfaAuditEvents.RecoveryCodeUsed, accountId);
        }

        return spent;
    }

    private byte[] SecretOf(TotpAuthenticator authenticator) => Convert.FromBase64String(Protector.Unprotect(authenticator.ProtectedSecret));
}
