using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.PersonalAccessTokens;

/// <summary>
/// A person's long-lived token for scripts (CONTRACTS.md "Personal access tokens"; the model of
/// GitHub fine-grained tokens and Synapse personal access tokens). The token itself is kept only
/// as its SHA-256; <see cref="Id"/> is public and names it in lists, revocations and logs.
/// </summary>
public sealed class PersonalAccessToken
{
    /// <summary>16 random bytes in base64url, like a session id, so the revocation list holds it compactly.</summary>
    public required string Id { get; set; }
    public long AccountId { get; set; }
    public Account Account { get; set; } = null!;
    public required string Name { get; set; }
    /// <summary>SHA-256 of the token, lower-case hex (<see cref="Tokens.OpaqueTokens.Hash"/>).</summary>
    public required string TokenHash { get; set; }
    /// <summary>The granted scopes, space-separated in <see cref="PersonalAccessTokenScopes.All"/> order.</summary>
    public required string Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    /// <summary>Stamped at most once a minute (<see cref="PersonalAccessTokenAuthentication"/>).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.ToTable("personal_access_tokens");
        builder.Property(t => t.Id).HasMaxLength(40);
        builder.Property(t => t.Name).HasMaxLength(PersonalAccessTokenIssuer.MaxNameLength);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.Property(t => t.Scopes).HasMaxLength(64);
        builder.HasIndex(t => t.AccountId);
        builder.HasIndex(t => t.ExpiresAt);
        builder.HasOne(t => t.Account).WithMany().HasForeignKey(t => t.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
