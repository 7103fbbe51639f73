using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace TokenServer.Store;

/// <summary>
/// The one store. Each provider has a subclass only so that it can own its migrations
/// (Store/Migrations/Sqlite, Store/Migrations/Postgres); the model is the same.
/// </summary>
public abstract class TokenServerDb(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Membership> Memberships => Set<Membership>();
    public DbSet<LoginSession> Sessions => Set<LoginSession>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    public DbSet<RevokedToken> RevokedTokens => Set<RevokedToken>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<AccountChange> AccountChanges => Set<AccountChange>();

    /// <summary>The Data Protection key ring, kept here so every instance and every restart can read the signing keys.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TokenServerDb).Assembly);
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
    }
}

public sealed class SqliteTokenServerDb(DbContextOptions<SqliteTokenServerDb> options) : TokenServerDb(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date-time type: stored as text, DateTimeOffset cannot be compared or
        // ordered in SQL. As a 64-bit number it can (all our times are UTC).
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresTokenServerDb(DbContextOptions<PostgresTokenServerDb> options) : TokenServerDb(options);
