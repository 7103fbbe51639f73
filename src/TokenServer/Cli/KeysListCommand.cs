using System.CommandLine;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class KeysListCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("list", "List the signing keys: kid, algorithm, created, activates, and whether each signs now, is waiting to, is retired, or was withdrawn.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
            var keys = (await db.SigningKeys.AsNoTracking().ToListAsync(cancellationToken)).OrderBy(k => k.ActivatesAt).ThenBy(k => k.Generation).ToList();
            var signing = keys.LastOrDefault(k => k.ActivatesAt <= now && k.WithdrawnAt is null);
            await host.Output.WriteLineAsync("kid\talgorithm\tcreated\tactivates\tstate");
            foreach (var k in keys)
            {
                var state = k.WithdrawnAt is not null ? "withdrawn" : k == signing ? "signing" : k.ActivatesAt > now ? "next" : "retired";
                await host.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{k.Id}\t{k.Algorithm}\t{k.CreatedAt:O}\t{k.ActivatesAt:O}\t{state}"));
            }

            return 0;
        });
        return command;
    }
}
