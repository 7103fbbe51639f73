using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.Oidc;

/// <summary>
/// A registered OpenID Connect client (CONTRACTS.md, "OpenID Connect provider"). A confidential
/// client's secret is kept only as its SHA-256, like every other opaque secret here.
/// </summary>
public sealed class OidcClient
{
    public required string ClientId { get; set; }
    public required string Name { get; set; }

    /// <summary><see cref="OidcClientTypes"/>.</summary>
    public required string Type { get; set; }
    public string? SecretHash { get; set; }
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];

    /// <summary>A first-party client signs users in without asking their consent.</summary>
    public bool FirstParty { get; set; }
    public string? BackchannelLogoutUri { get; set; }

    /// <summary>The <c>aud</c> of its access tokens besides the server's own, or null.</summary>
    public string? Audience { get; set; }

    /// <summary>Its access-token lifetime in seconds, or null for the server's default.</summary>
    public int? AccessTokenLifetimeSeconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public static class OidcClientTypes
{
    public const string Public = "public";
    public const string Confidential = "confidential";
}

/// <summary>
/// An authorization code (RFC 6749 §4.1.2), kept as its SHA-256. Single use: a second redemption
/// revokes the session the first one started (§4.1.2, §10.5).
/// </summary>
public sealed class AuthorizationCode
{
    public required string CodeHash { get; set; }
    public required string ClientId { get; set; }
    public long AccountId { get; set; }
    public required string BrowserSessionId { get; set; }
    public required string RedirectUri { get; set; }
    public required string Scope { get; set; }
    public string? Nonce { get; set; }
    public required string CodeChallenge { get; set; }
    public DateTimeOffset AuthTime { get; set; }

    /// <summary>The browser sign-in's <c>amr</c> (RFC 8176, separated by spaces) and <c>acr</c>, for the ID token; an upstream provider's with <c>fed</c> (Federation/).</summary>
    public string? AuthenticationMethods { get; set; }
    public string? Acr { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? ConsumedAt { get; set; }

    /// <summary>The session the first redemption started, revoked if the code comes back.</summary>
    public string? IssuedSessionId { get; set; }
}

/// <summary>An account's consent to a third-party client's scopes (OpenID Connect Core 1.0 §3.1.2.4).</summary>
public sealed class OidcConsent
{
    public long AccountId { get; set; }
    public required string ClientId { get; set; }
    public List<string> Scopes { get; set; } = [];
    public DateTimeOffset GrantedAt { get; set; }
}

internal sealed class OidcClientConfiguration : IEntityTypeConfiguration<OidcClient>
{
    public void Configure(EntityTypeBuilder<OidcClient> builder)
    {
        builder.ToTable("oidc_clients");
        builder.HasKey(c => c.ClientId);
        builder.Property(c => c.ClientId).HasMaxLength(100);
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.Property(c => c.Type).HasMaxLength(20);
        builder.Property(c => c.SecretHash).HasMaxLength(64);
        builder.Property(c => c.BackchannelLogoutUri).HasMaxLength(2000);
        builder.Property(c => c.Audience).HasMaxLength(200);
    }
}

internal sealed class AuthorizationCodeConfiguration : IEntityTypeConfiguration<AuthorizationCode>
{
    public void Configure(EntityTypeBuilder<AuthorizationCode> builder)
    {
        builder.ToTable("authorization_codes");
        builder.HasKey(c => c.CodeHash);
        builder.Property(c => c.CodeHash).HasMaxLength(64);
        builder.Property(c => c.ClientId).HasMaxLength(100);
        builder.Property(c => c.BrowserSessionId).HasMaxLength(40);
        builder.Property(c => c.RedirectUri).HasMaxLength(2000);
        builder.Property(c => c.Scope).HasMaxLength(1000);
        builder.Property(c => c.Nonce).HasMaxLength(500);
        builder.Property(c => c.CodeChallenge).HasMaxLength(128);
        builder.Property(c => c.AuthenticationMethods).HasMaxLength(200);
        builder.Property(c => c.Acr).HasMaxLength(Federation.UpstreamIdentity.MaxAcrLength);
        builder.Property(c => c.IssuedSessionId).HasMaxLength(40);
        builder.HasIndex(c => c.ExpiresAt);
        builder.HasOne<Account>().WithMany().HasForeignKey(c => c.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OidcConsentConfiguration : IEntityTypeConfiguration<OidcConsent>
{
    public void Configure(EntityTypeBuilder<OidcConsent> builder)
    {
        builder.ToTable("oidc_consents");
        builder.HasKey(c => new { c.AccountId, c.ClientId });
        builder.Property(c => c.ClientId).HasMaxLength(100);
        builder.HasOne<Account>().WithMany().HasForeignKey(c => c.AccountId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<OidcClient>().WithMany().HasForeignKey(c => c.ClientId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// A device authorization (RFC 8628 §3.2). Both codes are kept only as their SHA-256. The user
/// code is single use: once approved or denied it no longer matches a pending request.
/// </summary>
public sealed class DeviceAuthorization
{
    public required string DeviceCodeHash { get; set; }
    public required string UserCodeHash { get; set; }
    public required string ClientId { get; set; }
    public required string Scope { get; set; }

    /// <summary><see cref="DeviceStatuses"/>.</summary>
    public required string Status { get; set; }
    public long? AccountId { get; set; }
    public string? BrowserSessionId { get; set; }
    public DateTimeOffset? AuthTime { get; set; }

    /// <summary>The approving browser sign-in's <c>amr</c> (RFC 8176, separated by spaces) and <c>acr</c>, as on <see cref="AuthorizationCode"/>.</summary>
    public string? AuthenticationMethods { get; set; }
    public string? Acr { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Seconds the client must wait between polls (RFC 8628 §3.5: each slow_down adds 5).</summary>
    public int Interval { get; set; }
    public DateTimeOffset? LastPolledAt { get; set; }
}

public static class DeviceStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Redeemed = "redeemed";
}

internal sealed class DeviceAuthorizationConfiguration : IEntityTypeConfiguration<DeviceAuthorization>
{
    public void Configure(EntityTypeBuilder<DeviceAuthorization> builder)
    {
        builder.ToTable("device_authorizations");
        builder.HasKey(d => d.DeviceCodeHash);
        builder.Property(d => d.DeviceCodeHash).HasMaxLength(64);
        builder.Property(d => d.UserCodeHash).HasMaxLength(64);
        builder.HasIndex(d => d.UserCodeHash).IsUnique();
        builder.Property(d => d.ClientId).HasMaxLength(100);
        builder.Property(d => d.Scope).HasMaxLength(1000);
        builder.Property(d => d.Status).HasMaxLength(20);
        builder.Property(d => d.BrowserSessionId).HasMaxLength(40);
        builder.Property(d => d.AuthenticationMethods).HasMaxLength(200);
        builder.Property(d => d.Acr).HasMaxLength(Federation.UpstreamIdentity.MaxAcrLength);
        builder.HasIndex(d => d.ExpiresAt);
    }
}
