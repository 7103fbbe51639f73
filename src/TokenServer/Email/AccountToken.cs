using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.Email;

/// <summary>
/// A single-use link sent by mail: email verification, password reset or email change. Kept
/// only as the SHA-256 of its token; used once (<see cref="UsedAt"/>), and only until it expires.
/// </summary>
public sealed class AccountToken
{
    public long Id { get; set; }
    public long AccountId { get; set; }
    public required string Purpose { get; set; }
    public required string TokenHash { get; set; }
    /// <summary>The address being verified: the account's own, or the new one of an email change.</summary>
    public required string Email { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

public static class AccountTokenPurposes
{
    public const string VerifyEmail = "verify_email";
    public const string ChangeEmail = "change_email";
    public const string ResetPassword = "reset_password";
}

internal sealed class AccountTokenConfiguration : IEntityTypeConfiguration<AccountToken>
{
    public void Configure(EntityTypeBuilder<AccountToken> builder)
    {
        builder.ToTable("account_tokens");
        builder.Property(t => t.Purpose).HasMaxLength(20);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.Property(t => t.Email).HasMaxLength(320);
        builder.HasIndex(t => new { t.AccountId, t.Purpose });
        builder.HasIndex(t => t.ExpiresAt);
        builder.HasOne<Account>().WithMany().HasForeignKey(t => t.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
