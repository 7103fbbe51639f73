using System.CommandLine;

namespace TokenServer.Cli;

internal static class MigrateCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("migrate", "Apply pending store migrations and exit.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            await host.Output.WriteLineAsync("Store schema is current.");
            return 0;
        });
        return command;
    }
}
