using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenServer.Oidc;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class ClientsListCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("list", "List the registered OpenID Connect clients (never their secrets): client_id, type, name, grant types, redirect URIs.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var clients = await scope.ServiceProvider.GetRequiredService<TokenServerDb>().Set<OidcClient>().AsNoTracking().OrderBy(c => c.ClientId).ToListAsync(cancellationToken);
            await host.Output.WriteLineAsync("client_id\ttype\tname\tgrant_types\tredirect_uris");
            foreach (var c in clients)
            {
                await host.Output.WriteLineAsync($"{c.ClientId}\t{c.Type}\t{c.Name}\t{string.Join(' ', c.GrantTypes)}\t{string.Join(' ', c.RedirectUris)}");
            }

            return 0;
        });
        return command;
    }
}
