using System.CommandLine;
using System.Globalization;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Cli;

internal static class KeysRotateCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("rotate", "Create the next signing key; it is published in JWKS at once and starts signing after TokenServer:Keys:PublishLead.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var key = await scope.ServiceProvider.GetRequiredService<SigningKeyRing>().RotateAsync(cancellationToken);
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            scope.ServiceProvider.GetRequiredService<AuditLog>().Record(AuditEventTypes.KeyRotated, null, $"kid {key.Id} by the operator command line");
            await db.SaveChangesAsync(cancellationToken);
            await host.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Created key {key.Id} ({key.Algorithm}); it signs from {key.ActivatesAt:O}."));
            return 0;
        });
        return command;
    }
}
