using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class AccountsLegacyReportCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("legacy-report", "Count the accounts that still hold an imported password hash, by format (each moves to BCrypt at its next login).");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var total = await db.Accounts.CountAsync(cancellationToken);
            var byFormat = new SortedDictionary<string, int>(StringComparer.Ordinal);
            await foreach (var hash in db.Accounts.AsNoTracking().Where(a => !a.PasswordHash.StartsWith("$2")).Select(a => a.PasswordHash).AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                var format = LegacyPasswords.Describe(hash) ?? "unknown";
                byFormat[format] = byFormat.GetValueOrDefault(format) + 1;
            }

            foreach (var (format, count) in byFormat)
            {
                await host.Output.WriteLineAsync($"{format}\t{count}");
            }

            await host.Output.WriteLineAsync($"legacy\t{byFormat.Values.Sum()} of {total} accounts");
            return 0;
        });
        return command;
    }
}
