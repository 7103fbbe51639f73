using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace TokenServer.Store;

public sealed class DatabaseOptions
{
    public const string Section = "Database";
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary><c>Sqlite</c> (embedded, the default) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) =>
        options.Provider is DatabaseOptions.Sqlite or DatabaseOptions.Postgres
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Database:Provider must be '{DatabaseOptions.Sqlite}' or '{DatabaseOptions.Postgres}', not '{options.Provider}'.");
}

public static class StoreSetup
{
    public const string ConnectionStringName = "TokenServer";

    public static WebApplicationBuilder AddStore(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        var provider = builder.Configuration[$"{DatabaseOptions.Section}:Provider"] ?? DatabaseOptions.Sqlite;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);

        if (provider == DatabaseOptions.Postgres)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new ValidationException("Database:Provider is Postgres, so ConnectionStrings:TokenServer must be set (for example 'Host=db;Database=tokenserver;Username=tokenserver;Password=...').");
            }

            builder.Services.AddDbContextPool<TokenServerDb, PostgresTokenServerDb>((services, o) => o.UseNpgsql(connectionString)
                .ConfigureWarnings(NoModelDiffAtStart)
                .AddInterceptors(services.GetServices<IInterceptor>()));
        }
        else
        {
            // The default store, and a relative Data Source, sit under the content root (the app's
            // directory), wherever the server is started from.
            var sqlite = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(connectionString) ? "Data Source=data/tokenserver.db" : connectionString);
            if (sqlite.Mode != SqliteOpenMode.Memory && IsFilePath(sqlite.DataSource))
            {
                sqlite.DataSource = Path.GetFullPath(sqlite.DataSource, builder.Environment.ContentRootPath);
            }
            if (sqlite.DefaultTimeout == 30)
            {
                // Unless the operator chose one: Microsoft.Data.Sqlite (default 30 s) retries a busy
                // database until the command timeout; with SQLite's own busy handler
                // (SqliteBusyTimeout) this bounds how long a writer waits for another process
                // before the client gets a 503 (Hosting/StoreFailures.cs).
                sqlite.DefaultTimeout = SqliteBusyTimeout.Milliseconds / 1000;
            }

            EnsureDirectory(sqlite.DataSource);
            builder.Services.AddDbContextPool<TokenServerDb, SqliteTokenServerDb>((services, o) => o.UseSqlite(sqlite.ConnectionString)
                .ConfigureWarnings(NoModelDiffAtStart)
                .AddInterceptors([SqliteBusyTimeout.Instance, .. services.GetServices<IInterceptor>()]));
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddSingleton<GroupCommit>();
        builder.Services.AddOptions<PruningOptions>().BindConfiguration(PruningOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PruningOptions>, PruningOptionsValidator>();
        builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        builder.Services.AddScoped<StorePruning>();
        builder.Services.AddHostedService<StorePruner>();
        builder.Services.AddHostedService<StoreMigrator>();
        builder.Services.AddHealthChecks().AddDbContextCheck<TokenServerDb>("store");
        return builder;
    }

    /// <summary>
    /// Migrating at start would also rebuild the model from the migrations' snapshot and compare
    /// it with the code's model, to warn of a change that has no migration. That is a build-time
    /// question, answered by a test (Store/MigrationTests.cs) rather than at every start.
    /// </summary>
    private static void NoModelDiffAtStart(WarningsConfigurationBuilder warnings) =>
        warnings.Ignore(RelationalEventId.PendingModelChangesWarning);

    /// <summary>A Data Source that names a file, not <c>:memory:</c>, an empty (temporary) database or a <c>file:</c> URI.</summary>
    private static bool IsFilePath(string dataSource) =>
        !(string.IsNullOrEmpty(dataSource) || dataSource.StartsWith(':') || dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase));

    private static void EnsureDirectory(string dataSource)
    {
        if (!IsFilePath(dataSource))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }
}

/// <summary>
/// Microsoft.Data.Sqlite retries a busy database by sleeping 150 ms between attempts, which
/// turns every short write conflict into a 150 ms stall. SQLite's own busy handler waits in
/// steps of a few milliseconds, so each connection gets a busy timeout and contended writers
/// queue closely behind each other. (Writers of this process queue before that, in
/// <see cref="WriteGate"/>; the busy handler is for other processes on the same file.) Set
/// through the C API on each open: a pooled connection costs no SQL statement for it.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    /// <summary>
    /// A writer that cannot get the file within this answers 503 with Retry-After
    /// (Hosting/StoreFailures.cs) rather than hold its client for tens of seconds.
    /// </summary>
    internal const int Milliseconds = 5_000;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        var rc = SQLitePCL.raw.sqlite3_busy_timeout(((SqliteConnection)connection).Handle, Milliseconds);
        SqliteException.ThrowExceptionForRC(rc, ((SqliteConnection)connection).Handle);
    }
}

/// <summary>Creates and migrates the schema before the server takes requests (CONTRACTS.md, operator contract).</summary>
internal sealed class StoreMigrator(IServiceScopeFactory scopes, ILogger<StoreMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        if (await LatestAppliedMigrationAsync(db, cancellationToken) != db.Database.GetMigrations().LastOrDefault())
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        if (db.Database.IsSqlite())
        {
            // WAL lets readers run beside the single writer; the mode is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        logger.LogInformation("Store ready ({Provider})", db.Database.ProviderName);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The newest migration the store records, read with one statement. EF Core's migrator builds a
    /// model of its history table at every call, a sixth of a start's work, even when there is
    /// nothing to apply (docs/performance.md, "First answer"); migrations are applied in order, so
    /// a store whose newest is the build's newest has them all. Null when there is no history yet.
    /// </summary>
    private static async Task<string?> LatestAppliedMigrationAsync(TokenServerDb db, CancellationToken cancellationToken)
    {
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\" ORDER BY \"MigrationId\" DESC LIMIT 1";
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }
        catch (DbException)
        {
            // No history table, or (PostgreSQL) no database yet, which the migrator creates: a new store.
            return null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
