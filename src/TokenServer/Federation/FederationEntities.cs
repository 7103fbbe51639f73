using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.Federation;

/// <summary>
/// An account's identity at an upstream provider: the (provider, upstream subject) pair always
/// signs in to the same account (OpenID Connect Core 1.0 §5.7: <c>sub</c> with <c>iss</c> is
/// the only stable identifier; an email is not).
/// </summary>
public sealed class FederatedIdentity
{
    public long Id { get; set; }

    /// <summary>The provider's name, lower case (<see cref="ExternalProvidersOptions.Key"/>).</summary>
    public required string Provider { get; set; }

    /// <summary>The <c>iss</c> of the upstream ID token that made the link.</summary>
    public required string Issuer { get; set; }

    public required string Subject { get; set; }
    public long AccountId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastUsedAt { get; set; }
}

/// <summary>
/// A membership granted by a provider's claim mapping (<see cref="ClaimMapping"/>): only these
/// are taken away when the claim stops granting them; memberships added by hand are never touched.
/// </summary>
public sealed class MappedMembership
{
    public long AccountId { get; set; }
    public long OrganizationId { get; set; }
    public required string Provider { get; set; }
}

internal sealed class FederatedIdentityConfiguration : IEntityTypeConfiguration<FederatedIdentity>
{
    public void Configure(EntityTypeBuilder<FederatedIdentity> builder)
    {
        builder.ToTable("federated_identities");
        builder.Property(f => f.Provider).HasMaxLength(40);
        builder.Property(f => f.Issuer).HasMaxLength(500);
        builder.Property(f => f.Subject).HasMaxLength(255);
        builder.HasIndex(f => new { f.Provider, f.Subject }).IsUnique();
        builder.HasIndex(f => new { f.AccountId, f.Provider }).IsUnique();
        builder.HasOne<Account>().WithMany().HasForeignKey(f => f.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MappedMembershipConfiguration : IEntityTypeConfiguration<MappedMembership>
{
    public void Configure(EntityTypeBuilder<MappedMembership> builder)
    {
        builder.ToTable("mapped_memberships");
        builder.HasKey(m => new { m.AccountId, m.OrganizationId });
        builder.Property(m => m.Provider).HasMaxLength(40);
        builder.HasOne<Membership>().WithOne().HasForeignKey<MappedMembership>(m => new { m.OrganizationId, m.AccountId }).OnDelete(DeleteBehavior.Cascade);
    }
}
