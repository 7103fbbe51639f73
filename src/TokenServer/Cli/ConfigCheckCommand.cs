using System.CommandLine;
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
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                throw new CliException($"The store ({db.Database.ProviderName}) does not answer: check ConnectionStrings:TokenServer.");
            }

            await host.Output.WriteLineAsync("Configuration is valid.");
            return 0;
        });
        return command;
    }
}
