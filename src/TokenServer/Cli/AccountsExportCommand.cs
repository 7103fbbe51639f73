using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Cli;

internal static class AccountsExportCommand
{
    public static Command Create(CliHost host)
    {
        var file = new Argument<FileInfo>("file") { Description = "Where to write: JSON lines, or CSV when the name ends in .csv. Hashes are written as stored, with hash_format tokenserver." };
        var command = new Command("export", "Export every account in the import format; the file imports back unchanged.") { file };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var path = parsed.GetValue(file)!;
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var count = 0;
            async IAsyncEnumerable<AccountLine> Lines()
            {
                await foreach (var a in db.Accounts.AsNoTracking().OrderBy(a => a.Id)
                    .Select(a => new { a.Email, a.FullName, a.Role, a.PasswordHash, Organizations = a.Memberships.Select(m => new { m.Organization.Slug, m.Role }).ToList() })
                    .AsAsyncEnumerable().WithCancellation(cancellationToken))
                {
                    count++;
                    yield return new AccountLine
                    {
                        Email = a.Email,
                        FullName = a.FullName,
                        Role = a.Role,
                        Organizations = [.. a.Organizations.Select(m => new AccountLineMembership { Slug = m.Slug, Role = m.Role })],
                        PasswordHash = a.PasswordHash,
                        HashFormat = "tokenserver",
                    };
                }
            }

            await AccountFile.WriteAsync(path.FullName, Lines(), cancellationToken);
            await host.Output.WriteLineAsync($"exported {count} accounts to {path.FullName}");
            return 0;
        });
        return command;
    }
}
