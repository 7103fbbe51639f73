using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TokenServer.Store;

/// <summary>Used only by <c>dotnet ef migrations add</c>; the running server configures the store in StoreSetup.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteTokenServerDb>
{
    public SqliteTokenServerDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteTokenServerDb>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresTokenServerDb>
{
    public PostgresTokenServerDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresTokenServerDb>().UseNpgsql("Host=localhost;Database=design").Options);
}
