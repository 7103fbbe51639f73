using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.Mfa;

/// <summary>
/// An account's TOTP authenticator (RFC 6238). The shared secret must be read back to check a
/// code, so it is encrypted with Data Protection rather than hashed (docs/security.md, "MFA").
/// MFA is on once <see cref="ConfirmedAt"/> is set.
/// </summary>
public sealed class TotpAuthenticator
{
    public long AccountId { get; set; }
    public Account Account { get; set; } = null!;
    public required string ProtectedSecret { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ConfirmedAt { get; set; }
    /// <summary>The last time step whose code was accepted: a code is never accepted twice (RFC 6238 §5.2).</summary>
    public long LastUsedStep { get; set; }
}

/// <summary>A single-use recovery code, kept as its SHA-256 (each has 80 random bits).</summary>
public sealed class RecoveryCode
{
    public long Id { get; set; }
    public long AccountId { get; set; }
    public required string CodeHash { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>
/// The second step of a login whose password was right: the <c>mfa_token</c> answered with
/// <c>mfa_required</c>, kept as its SHA-256, short-lived, single use, a few attempts.
/// </summary>
public sealed class MfaChallenge
{
    public long Id { get; set; }
    public long AccountId { get; set; }
    public required string TokenHash { get; set; }
    /// <summary>Which login asked (<see cref="MfaChallengeKinds"/>), so the answer has that login's shape.</summary>
    public required string Kind { get; set; }
    public required string ClientId { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? ConsumedAt { get; set; }
    public int Attempts { get; set; }
}

public static class MfaChallengeKinds
{
    /// <summary>POST /api/v1/auth/login: the answer is the SeqDB login body.</summary>
    public const string Login = "login";

    /// <summary>POST /api/v1/auth/token, password grant: the answer is RFC 6749 §5.1.</summary>
    public const string OAuth = "oauth";

    /// <summary>The sign-in page: the answer is a browser session.</summary>
    public const string Browser = "browser";

    /// <summary>A sign-in through an upstream provider (Federation/): the answer is a browser session with <c>amr</c> <c>fed</c> and <c>otp</c>.</summary>
    public const string BrowserFederated = "browser-fed";
}

internal sealed class TotpAuthenticatorConfiguration : IEntityTypeConfiguration<TotpAuthenticator>
{
    public void Configure(EntityTypeBuilder<TotpAuthenticator> builder)
    {
        builder.ToTable("totp_authenticators");
        builder.HasKey(t => t.AccountId);
        builder.Property(t => t.ProtectedSecret).HasMaxLength(1000);
        builder.HasOne(t => t.Account).WithOne().HasForeignKey<TotpAuthenticator>(t => t.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecoveryCodeConfiguration : IEntityTypeConfiguration<RecoveryCode>
{
    public void Configure(EntityTypeBuilder<RecoveryCode> builder)
    {
        builder.ToTable("recovery_codes");
        builder.Property(c => c.CodeHash).HasMaxLength(64);
        builder.HasIndex(c => new { c.AccountId, c.CodeHash }).IsUnique();
        builder.HasOne<Account>().WithMany().HasForeignKey(c => c.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MfaChallengeConfiguration : IEntityTypeConfiguration<MfaChallenge>
{
    public void Configure(EntityTypeBuilder<MfaChallenge> builder)
    {
        builder.ToTable("mfa_challenges");
        builder.Property(c => c.TokenHash).HasMaxLength(64);
        builder.HasIndex(c => c.TokenHash).IsUnique();
        builder.HasIndex(c => c.ExpiresAt);
        builder.Property(c => c.Kind).HasMaxLength(16);
        builder.Property(c => c.ClientId).HasMaxLength(100);
        builder.HasOne<Account>().WithMany().HasForeignKey(c => c.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
