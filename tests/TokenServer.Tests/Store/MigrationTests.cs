using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Store;

/// <summary>
/// The server does not compare its model with the migrations at start (Store/StoreSetup.cs):
/// this test does, for the provider of this build, so a model change without its migration
/// fails here instead of leaving a store without the column.
/// </summary>
public sealed class MigrationTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task EveryModelChange_HasItsMigration_AndAllAreApplied()
    {
        _ = factory.CreateClient();
        await using var scope = factory.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<TokenServerDb>().Database;

        Assert.False(database.HasPendingModelChanges(), "The model has changes no migration makes: regenerate or add the migrations of both providers (scripts/regenerate-migrations.sh, docs/decisions.md).");
        Assert.Empty(await database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task AServerStartedWhereNoStoreExistsYet_CreatesIt()
    {
        // No SQLite file; on PostgreSQL, no database: the operator gave only a name.
        factory.Store.MakeUnreachable();

        using var health = await factory.CreateClient().GetAsync("/api/v1/health");

        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<TokenServerDb>().Database.GetPendingMigrationsAsync());
    }
}
