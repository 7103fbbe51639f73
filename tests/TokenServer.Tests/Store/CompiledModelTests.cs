using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Store;

/// <summary>
/// The server runs on a compiled model (Store/CompiledModels, made by
/// scripts/regenerate-migrations.sh) instead of building its model at every start
/// (docs/performance.md, "First answer"). EF Core uses a compiled model as it is, so one left
/// behind by a model change would silently map the old columns: this test compares it with the
/// model the code builds, for the provider of this build.
/// </summary>
public sealed class CompiledModelTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task TheServerRunsOnTheCompiledModel_AndItMatchesTheModelTheCodeBuilds()
    {
        _ = factory.CreateClient();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var compiled = db.Model;
        var built = db.GetService<IDesignTimeModel>().Model;

#if POSTGRES
        Assert.IsType<TokenServer.Store.CompiledModels.Postgres.PostgresTokenServerDbModel>(compiled);
#else
        Assert.IsType<TokenServer.Store.CompiledModels.Sqlite.SqliteTokenServerDbModel>(compiled);
#endif
        var expected = Describe(built).ToList();
        var actual = Describe(compiled).ToList();
        Assert.True(
            expected.SequenceEqual(actual),
            "The compiled model differs from the model the code builds: run scripts/regenerate-migrations.sh.\nOnly in the code's model:\n"
                + string.Join('\n', expected.Except(actual)) + "\nOnly in the compiled model:\n" + string.Join('\n', actual.Except(expected)));
    }

    /// <summary>Each mapping the server relies on: tables, columns and their types, keys, indexes, relationships.</summary>
    private static IEnumerable<string> Describe(IModel model) =>
        model.GetEntityTypes()
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .SelectMany(e => e.GetProperties()
                .Select(p => $"{e.Name}.{p.Name}: {p.ClrType} as {p.GetColumnName()} {p.GetRelationalTypeMapping().StoreType} null={p.IsNullable} max={p.GetMaxLength()} stored as {p.GetValueConverter()?.ProviderClrType ?? p.ClrType} concurrency={p.IsConcurrencyToken} generated={p.ValueGenerated}")
                .Concat(e.GetKeys().Select(k => $"{e.Name} key ({Names(k.Properties)}) primary={k.IsPrimaryKey()}"))
                .Concat(e.GetIndexes().Select(i => $"{e.Name} index ({Names(i.Properties)}) unique={i.IsUnique}"))
                .Concat(e.GetForeignKeys().Select(f => $"{e.Name} ({Names(f.Properties)}) -> {f.PrincipalEntityType.Name} on delete {f.DeleteBehavior}"))
                .Concat(e.GetNavigations().Select(n => $"{e.Name}.{n.Name} -> {n.TargetEntityType.Name}"))
                .Prepend($"{e.Name} in {e.GetSchema()}.{e.GetTableName()}")
                .OrderBy(s => s, StringComparer.Ordinal));

    private static string Names(IEnumerable<IReadOnlyProperty> properties) => string.Join(", ", properties.Select(p => p.Name));
}
