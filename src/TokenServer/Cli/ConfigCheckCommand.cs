using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Resources;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class ConfigCheckCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("check", "Validate the configuration (every setting, and that the store answers) without starting the server.");
        command.SetAction(async (_, cancellationToken) =>
        {
            // Building the services validates every options class, as the server does at start.
            var services = host.Services;
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            try
            {
                // Opening (not only CanConnect, which is false for a SQLite file not made yet)
                // proves the server could reach its store; a new SQLite file is created empty.
                await db.Database.OpenConnectionAsync(cancellationToken);
                await db.Database.CloseConnectionAsync();
            }
            catch (System.Data.Common.DbException e)
            {
                throw new CliException($"The store ({db.Database.ProviderName}) does not answer: {e.Message} Check ConnectionStrings:TokenServer.");
            }

            // Where the store and the files are, as resolved (relative paths are under the content root).
            await host.Output.WriteLineAsync("Configuration is valid.");
            await host.Output.WriteLineAsync($"store: {services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider} {db.Database.GetDbConnection().DataSource}");
            await host.Output.WriteLineAsync($"files: {services.GetRequiredService<IOptions<ResourceOptions>>().Value.FullFilesDirectory}");
            return 0;
        });
        return command;
    }
}
