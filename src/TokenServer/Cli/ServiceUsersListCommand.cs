using System.CommandLine;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenServer.Organizations;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class ServiceUsersListCommand
{
    public static Command Create(CliHost host)
    {
        var organization = new Option<string?>("--organization") { Description = "Only this organization's service users (its slug)." };
        var command = new Command("list", "List the service users (never their secrets): organization, name, role, client_id, created.") { organization };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var slug = parsed.GetValue(organization);
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var rows = await scope.ServiceProvider.GetRequiredService<TokenServerDb>().Set<ServiceUser>().AsNoTracking()
                .Where(s => slug == null || s.Organization.Slug == slug)
                .OrderBy(s => s.Organization.Slug).ThenBy(s => s.Name)
                .Select(s => new { s.Organization.Slug, s.Name, s.Account.Role, s.ClientId, s.CreatedAt })
                .ToListAsync(cancellationToken);
            await host.Output.WriteLineAsync("organization\tname\trole\tclient_id\tcreated");
            foreach (var r in rows)
            {
                await host.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{r.Slug}\t{r.Name}\t{r.Role}\t{r.ClientId}\t{r.CreatedAt:O}"));
            }

            return 0;
        });
        return command;
    }
}
