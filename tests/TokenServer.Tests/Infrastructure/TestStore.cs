using Microsoft.Data.Sqlite;
using Npgsql;

namespace TokenServer.Tests.Infrastructure;

/// <summary>
/// The store each test server gets: a fresh SQLite file in TokenServer.Tests, a fresh
/// PostgreSQL database in TokenServer.Tests.Postgres (the same test sources compiled with
/// POSTGRES), so the whole suite proves both providers.
/// </summary>
public sealed class TestStore : IDisposable
{
    public const string PostgresVariable = "TOKENSERVER_TEST_POSTGRES";
    public const string RequirePostgresVariable = "TOKENSERVER_REQUIRE_POSTGRES";

    private readonly string? sqlitePath;
    private readonly string? postgresDatabase;

    private TestStore(string provider, string connectionString, string? sqlitePath, string? postgresDatabase)
    {
        Provider = provider;
        ConnectionString = connectionString;
        this.sqlitePath = sqlitePath;
        this.postgresDatabase = postgresDatabase;
    }

    public string Provider { get; }

    public string ConnectionString { get; }

#if POSTGRES
    public const bool IsPostgres = true;

    private static readonly string? Server = Environment.GetEnvironmentVariable(PostgresVariable);

    /// <summary>Why the PostgreSQL suite cannot run here, or null when it can.</summary>
    public static string? SkipReason { get; } = Server is { Length: > 0 }
        ? null
        : Environment.GetEnvironmentVariable(RequirePostgresVariable) == "1"
            ? throw new InvalidOperationException($"{RequirePostgresVariable}=1 but {PostgresVariable} is not set: start a server with scripts/start-test-postgres.sh.")
            : $"PostgreSQL suite: set {PostgresVariable} (scripts/start-test-postgres.sh prints it) to run it.";

    public static TestStore Create()
    {
        var name = $"ts_test_{Guid.NewGuid():N}";
        using (var connection = new NpgsqlConnection(Server))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            command.ExecuteNonQuery();
        }

        var builder = new NpgsqlConnectionStringBuilder(Server) { Database = name };
        return new TestStore("Postgres", builder.ConnectionString, null, name);
    }
#else
    public const bool IsPostgres = false;

    public static string? SkipReason => null;

    public static TestStore Create()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tokenserver-test-{Guid.NewGuid():N}.db");
        return new TestStore("Sqlite", $"Data Source={path}", path, null);
    }
#endif

    /// <summary>
    /// Takes the store away under a running server: the SQLite file is deleted (a new connection
    /// then finds an empty database), the PostgreSQL database is dropped.
    /// </summary>
    public void MakeUnreachable()
    {
        if (sqlitePath is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(sqlitePath + suffix);
            }
        }

        if (postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable(PostgresVariable));
            connection.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{postgresDatabase}\" WITH (FORCE)", connection);
            command.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        if (sqlitePath is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                try
                {
                    File.Delete(sqlitePath + suffix);
                }
                catch (IOException)
                {
                    // Still open somewhere: left for the temp-directory cleaner.
                }
            }
        }

        if (postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable(PostgresVariable));
            connection.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{postgresDatabase}\" WITH (FORCE)", connection);
            command.ExecuteNonQuery();
        }
    }
}
