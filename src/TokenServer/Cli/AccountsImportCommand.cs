using System.CommandLine;
using TokenServer.Users;

namespace TokenServer.Cli;

internal static class AccountsImportCommand
{
    public static Command Create(CliHost host)
    {
        var file = new Argument<FileInfo>("file") { Description = "JSON lines (or .csv with the same columns): email, full_name, role, organizations, password_hash, hash_format, salt." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be created, updated, skipped and refused, and change nothing." };
        var command = new Command("import", "Import accounts with their existing password hashes (README \"Moving users from an existing platform\").") { file, dryRun };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var path = parsed.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"{path.FullName} does not exist.");
            }

            var isDryRun = parsed.GetValue(dryRun);
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var import = scope.ServiceProvider.GetRequiredService<AccountImport>();
            var report = await import.ImportAsync(AccountFile.ReadAsync(path.FullName, cancellationToken), isDryRun, cancellationToken);
            foreach (var problem in report.Problems)
            {
                await host.Output.WriteLineAsync($"refused {problem}");
            }

            await host.Output.WriteLineAsync($"{(isDryRun ? "dry run, would have: " : string.Empty)}created {report.Created}, updated {report.Updated}, skipped {report.Skipped}, refused {report.Refused}");
            if (report.Refused > 0)
            {
                throw new CliException($"{report.Refused} line(s) refused (listed above); the other lines were {(isDryRun ? "checked" : "imported")}.");
            }

            return 0;
        });
        return command;
    }
}
