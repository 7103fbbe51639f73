using System.CommandLine;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class PruneCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("prune", "Delete expired refresh tokens, sessions, revoked-token ids, old audit events, spent MFA challenges, mailed links and personal access tokens, and unattached staged uploads past their lifetime now (the server does this every TokenServer:Pruning:Interval).");
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var counts = await scope.ServiceProvider.GetRequiredService<StorePruning>().PruneAsync(cancellationToken);
            await host.Output.WriteLineAsync($"deleted: refresh tokens {counts.RefreshTokens}, sessions {counts.Sessions}, revoked token ids {counts.RevokedTokens}, audit events {counts.AuditEvents}, account changes {counts.AccountChanges}{string.Concat(counts.Steps.Select(s => $", {s.Name} {s.Count}"))}");
            return 0;
        });
        return command;
    }
}
