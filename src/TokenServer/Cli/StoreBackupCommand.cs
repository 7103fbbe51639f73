using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class StoreBackupCommand
{
    public static Command Create(CliHost host)
    {
        var path = new Argument<FileInfo>("path") { Description = "The file to write the copy to; it must not exist." };
        var command = new Command("backup", "Copy a SQLite store while the server runs (SQLite's online backup API: a consistent snapshot, writers keep going).") { path };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var target = parsed.GetValue(path)!;
            if (target.Exists)
            {
                throw new CliException($"{target.FullName} exists; give a new file name.");
            }

            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            if (!db.Database.IsSqlite())
            {
                throw new CliException("store backup copies a SQLite store; back up PostgreSQL with pg_dump (README \"Operating\").");
            }

            await using var source = new SqliteConnection(db.Database.GetConnectionString());
            await source.OpenAsync(cancellationToken);
            target.Directory?.Create();
            await using var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target.FullName, Pooling = false }.ConnectionString);
            await destination.OpenAsync(cancellationToken);
            source.BackupDatabase(destination);
            await host.Output.WriteLineAsync($"Backed up the store to {target.FullName}.");
            return 0;
        });
        return command;
    }
}
