using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenServer.Store;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("accounts");
        builder.Property(a => a.Email).HasMaxLength(320);
        builder.Property(a => a.NormalizedEmail).HasMaxLength(320);
        builder.HasIndex(a => a.NormalizedEmail).IsUnique();
        builder.Property(a => a.Username).HasMaxLength(64);
        builder.Property(a => a.NormalizedUsername).HasMaxLength(64);
        builder.HasIndex(a => a.NormalizedUsername).IsUnique();
        builder.Property(a => a.FullName).HasMaxLength(200);
        // Room for imported hashes kept in their own encoding (a Keycloak credential is JSON; Auth/LegacyPasswords.cs).
        builder.Property(a => a.PasswordHash).HasMaxLength(Account.PasswordHashMaxLength);
        builder.Property(a => a.Role).HasMaxLength(20);
        builder.Property(a => a.Status).HasMaxLength(20);
        builder.Property(a => a.SecurityStamp).HasMaxLength(64).IsConcurrencyToken();
    }
}

internal sealed class LoginThrottleConfiguration : IEntityTypeConfiguration<LoginThrottle>
{
    public const string Table = "login_throttles";

    public void Configure(EntityTypeBuilder<LoginThrottle> builder)
    {
        builder.ToTable(Table);
        builder.HasKey(t => new { t.LoginHash, t.Scope });
        builder.Property(t => t.LoginHash).HasMaxLength(64);
        builder.Property(t => t.Scope).HasMaxLength(64);
        builder.HasIndex(t => t.LastFailureAt);
    }
}

internal sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> builder)
    {
        builder.ToTable("organizations");
        builder.Property(o => o.Slug).HasMaxLength(64);
        builder.HasIndex(o => o.Slug).IsUnique();
        builder.Property(o => o.Name).HasMaxLength(200);
    }
}

internal sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> builder)
    {
        builder.ToTable("memberships");
        builder.HasKey(m => new { m.OrganizationId, m.AccountId });
        builder.HasIndex(m => m.AccountId);
        builder.Property(m => m.Role).HasMaxLength(20);
        builder.HasOne(m => m.Account).WithMany(a => a.Memberships).HasForeignKey(m => m.AccountId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(m => m.Organization).WithMany(o => o.Memberships).HasForeignKey(m => m.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LoginSessionConfiguration : IEntityTypeConfiguration<LoginSession>
{
    public void Configure(EntityTypeBuilder<LoginSession> builder)
    {
        builder.ToTable("sessions");
        builder.Property(s => s.Id).HasMaxLength(40);
        builder.Property(s => s.Dialect).HasMaxLength(32);
        builder.Property(s => s.ClientId).HasMaxLength(100);
        builder.Property(s => s.RevokedReason).HasMaxLength(64);
        builder.Property(s => s.UserAgent).HasMaxLength(256);
        builder.Property(s => s.ClientAddress).HasMaxLength(64);
        builder.Property(s => s.ParentSessionId).HasMaxLength(40);
        builder.Property(s => s.Scope).HasMaxLength(1000);
        builder.Property(s => s.Audience).HasMaxLength(200);
        builder.Property(s => s.AuthenticationMethods).HasMaxLength(64);
        builder.HasIndex(s => s.AccountId);
        builder.HasIndex(s => s.ParentSessionId);
        // The revocation cache polls for sessions revoked since its last look.
        builder.HasIndex(s => s.RevokedAt);
        builder.HasIndex(s => s.ExpiresAt);
        builder.HasOne(s => s.Account).WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.SessionId);
        builder.HasIndex(t => t.ExpiresAt);
        builder.HasOne(t => t.Session).WithMany(s => s.RefreshTokens).HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.ToTable("signing_keys");
        builder.Property(k => k.Id).HasMaxLength(64);
        builder.Property(k => k.Algorithm).HasMaxLength(10);
        builder.HasIndex(k => k.Generation).IsUnique();
    }
}

internal sealed class RevokedTokenConfiguration : IEntityTypeConfiguration<RevokedToken>
{
    public void Configure(EntityTypeBuilder<RevokedToken> builder)
    {
        builder.ToTable("revoked_tokens");
        builder.HasKey(t => t.Jti);
        builder.Property(t => t.Jti).HasMaxLength(64);
        builder.HasIndex(t => t.RevokedAt);
        builder.HasIndex(t => t.ExpiresAt);
    }
}

internal sealed class AccountChangeConfiguration : IEntityTypeConfiguration<AccountChange>
{
    public void Configure(EntityTypeBuilder<AccountChange> builder)
    {
        builder.ToTable("account_changes");
        builder.HasIndex(c => c.ChangedAt);
    }
}

internal sealed class RevocationEventConfiguration : IEntityTypeConfiguration<RevocationEvent>
{
    public void Configure(EntityTypeBuilder<RevocationEvent> builder)
    {
        builder.ToTable("revocation_events");
        builder.Property(e => e.Kind).HasMaxLength(16);
        builder.Property(e => e.Subject).HasMaxLength(128);
        builder.HasIndex(e => e.At);
    }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("audit_events");
        builder.Property(e => e.Type).HasMaxLength(64);
        builder.Property(e => e.Dialect).HasMaxLength(32);
        builder.Property(e => e.ClientAddress).HasMaxLength(64);
        builder.Property(e => e.Detail).HasMaxLength(1000);
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => new { e.AccountId, e.At });
        builder.HasIndex(e => new { e.Type, e.At });
    }
}
