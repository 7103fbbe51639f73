using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Organizations;

/// <summary>
/// A non-person member of one organization (TetraScience "Service User", seeds/004). It acts
/// through an <see cref="Store.Account"/> of its own, so memberships, roles and the <c>sub</c>
/// claim work as for a person; that account has no usable password hash, so no password login
/// ever succeeds for it. It authenticates with its client credentials or with tokens an
/// organization admin minted for it; each such token is a login session of its account.
/// </summary>
public sealed class ServiceUser
{
    public long Id { get; set; }
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public long AccountId { get; set; }
    public Account Account { get; set; } = null!;
    public required string Name { get; set; }
    public required string ClientId { get; set; }
    /// <summary>SHA-256 of the client secret, lower-case hex.</summary>
    public required string ClientSecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public long? CreatedBy { get; set; }
}

internal sealed class ServiceUserConfiguration : IEntityTypeConfiguration<ServiceUser>
{
    public void Configure(EntityTypeBuilder<ServiceUser> builder)
    {
        builder.ToTable("service_users");
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.Property(s => s.ClientId).HasMaxLength(64);
        builder.HasIndex(s => s.ClientId).IsUnique();
        builder.Property(s => s.ClientSecretHash).HasMaxLength(64);
        builder.HasIndex(s => s.OrganizationId);
        builder.HasIndex(s => s.AccountId).IsUnique();
        builder.HasOne(s => s.Organization).WithMany().HasForeignKey(s => s.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(s => s.Account).WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

public static class ServiceUserSecrets
{
    /// <summary>The <c>dialect</c> claim and session dialect of the long-lived tokens an organization admin mints.</summary>
    public const string Dialect = "service_user";

    public const string ClientIdPrefix = "su_";

    /// <summary>
    /// A password hash no verification can match (not a BCrypt string), so every password login
    /// for a service user's account fails like a wrong password.
    /// </summary>
    public const string NoPassword = "!service-user";

    /// <summary>The synthetic email of a service user's account: the .invalid TLD (RFC 2606 §2) can never receive mail or collide with a person.</summary>
    public static string EmailFor(string clientId) => $"{clientId}@service-users.invalid";

    public static string NewClientId() => ClientIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

}

/// <summary>Client authentication for <c>grant_type=client_credentials</c> (RFC 6749 §2.3.1, §4.4).</summary>
public sealed class ServiceUserCredentials(TokenServerDb db)
{
    private static readonly string DummyHash = OpaqueTokens.Hash("dummy");

    /// <summary>Every client_credentials grant starts here: compiled once, not looked up in EF Core's query cache per call.</summary>
    private static readonly Func<TokenServerDb, string, CancellationToken, Task<ClientRow?>> FindClient =
        EF.CompileAsyncQuery((TokenServerDb db, string clientId, CancellationToken _) => db.Set<ServiceUser>().AsNoTracking()
            .Where(s => s.ClientId == clientId)
            .Select(s => new ClientRow(s.ClientSecretHash, s.Account))
            .FirstOrDefault());

    /// <summary>The service user's account when the client id and secret match, else null.</summary>
    public async Task<Account?> CheckAsync(string? clientId, string? clientSecret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(clientSecret) || clientId.Length > 64 || clientSecret.Length > 256)
        {
            return null;
        }

        var row = await FindClient(db, clientId, cancellationToken);
        var presented = Encoding.ASCII.GetBytes(OpaqueTokens.Hash(clientSecret));
        var expected = Encoding.ASCII.GetBytes(row?.ClientSecretHash ?? DummyHash);
        var match = CryptographicOperations.FixedTimeEquals(presented, expected);
        return match && row is not null && row.Account.Status == AccountStatuses.Active ? row.Account : null;
    }
}

internal sealed record ClientRow(string ClientSecretHash, Account Account);

public static class ServiceUserAuditEvents
{
    public const string Created = "service_user.created";
    public const string Deleted = "service_user.deleted";
    public const string TokenCreated = "service_user.token_created";
}

public static class OrganizationsSetup
{
    public static WebApplicationBuilder AddOrganizations(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ServiceUserCredentials>();
        builder.Services.AddScoped<ServiceUserRegistry>();
        return builder;
    }
}
