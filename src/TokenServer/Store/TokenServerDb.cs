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
    public DbSet<RevocationEvent> RevocationEvents => Set<RevocationEvent>();
    public DbSet<LoginThrottle> LoginThrottles => Set<LoginThrottle>();

    /// <summary>The Data Protection key ring, kept here so every instance and every restart can read the signing keys.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    private SemaphoreSlim? writeGate;
    private int writeDepth;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TokenServerDb).Assembly);
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
    }

    /// <summary>The queue this provider's writers must take turns in (<see cref="WriteGate"/>), or null.</summary>
    private protected virtual SemaphoreSlim? FindWriteGate() => null;

    /// <summary>Whether this process's writers take turns on this store (SQLite), so that <see cref="GroupCommit"/> batches them.</summary>
    internal bool UsesWriteGate => Gate() is not null;

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        using var turn = EnterWrite();
        var announce = AnnouncesChanges();
        var saved = base.SaveChanges(acceptAllChangesOnSuccess);
        if (announce)
        {
            AnnounceChangesAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        return saved;
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        using var turn = await EnterWriteAsync(cancellationToken);
        var announce = AnnouncesChanges();
        var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        if (announce)
        {
            await AnnounceChangesAsync(cancellationToken);
        }

        return saved;
    }

    /// <summary>
    /// Tells the other instances that revocations or account changes were stored, so they read
    /// them now rather than at their next poll (Tokens/StoreChangeSync.cs). Inside a transaction
    /// the announcement goes out when it commits, and not at all if it rolls back.
    /// </summary>
    private protected virtual Task AnnounceChangesAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether this provider announces changes and the save about to run stores one.</summary>
    private protected virtual bool AnnouncesChanges() => false;

    private protected bool StoresChanges() =>
        ChangeTracker.Entries().Any(e => e.State == EntityState.Added && e.Entity is RevocationEvent or AccountChange);

    /// <summary>
    /// A transaction for statements that must write together, in turn with this process's other
    /// writers. Use it (not Database.BeginTransaction) for anything that writes.
    /// </summary>
    public async Task<WriteTransaction> BeginWriteTransactionAsync(CancellationToken cancellationToken)
    {
        var turn = await EnterWriteAsync(cancellationToken);
        try
        {
            return new WriteTransaction(await Database.BeginTransactionAsync(cancellationToken), turn);
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Statements that write straight to SQL (ExecuteUpdate, ExecuteDelete) outside a write
    /// transaction, run in this context's write turn.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken cancellationToken)
    {
        using var turn = await EnterWriteAsync(cancellationToken);
        return await write();
    }

    private WriteTurn EnterWrite()
    {
        if (writeDepth++ == 0)
        {
            try
            {
                if (Gate() is { } gate && !gate.Wait(TimeSpan.FromMilliseconds(SqliteBusyTimeout.Milliseconds)))
                {
                    throw new StoreBusyException("This process's SQLite writers queued longer than the busy timeout.");
                }
            }
            catch
            {
                writeDepth--;
                throw;
            }
        }

        return new WriteTurn(this);
    }

    private async ValueTask<WriteTurn> EnterWriteAsync(CancellationToken cancellationToken)
    {
        if (writeDepth++ == 0 && Gate() is { } gate)
        {
            try
            {
                // Bounded like SQLite's own busy handler: a queue this long means another
                // process holds the file (Hosting/StoreFailures.cs answers 503).
                if (!await gate.WaitAsync(TimeSpan.FromMilliseconds(SqliteBusyTimeout.Milliseconds), cancellationToken))
                {
                    throw new StoreBusyException("This process's SQLite writers queued longer than the busy timeout.");
                }
            }
            catch
            {
                writeDepth--;
                throw;
            }
        }

        return new WriteTurn(this);
    }

    internal void LeaveWrite()
    {
        if (--writeDepth == 0)
        {
            Gate()?.Release();
        }
    }

    private SemaphoreSlim? Gate() => writeGate ??= FindWriteGate();
}

public sealed class SqliteTokenServerDb(DbContextOptions<SqliteTokenServerDb> options) : TokenServerDb(options)
{
    private protected override SemaphoreSlim? FindWriteGate() => WriteGate.For(Database.GetConnectionString()!);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date-time type: stored as text, DateTimeOffset cannot be compared or
        // ordered in SQL. As a 64-bit number it can (all our times are UTC).
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresTokenServerDb(DbContextOptions<PostgresTokenServerDb> options) : TokenServerDb(options)
{
    /// <summary>The PostgreSQL channel that <see cref="AnnounceChangesAsync"/> notifies (PostgreSQL's NOTIFY: delivered at commit).</summary>
    public const string ChangesChannel = "tokenserver_changes";

    private const string Notify = "SELECT pg_notify('" + ChangesChannel + "', '')";

    private protected override bool AnnouncesChanges() => StoresChanges();

    private protected override Task AnnounceChangesAsync(CancellationToken cancellationToken) => Database.ExecuteSqlRawAsync(Notify, cancellationToken);
}
