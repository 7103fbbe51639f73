using System.CommandLine;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Cli;

internal static class KeysWithdrawCommand
{
    public static Command Create(CliHost host)
    {
        var kid = new Argument<string>("kid") { Description = "The key's id, as 'keys list' and the tokens' kid header show it; put -- before a kid that starts with '-'." };
        var command = new Command("withdraw", "Withdraw a signing key at once (a suspected leak): it leaves JWKS, tokens it signed are refused, and if it was signing a new key signs from now on.") { kid };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var id = parsed.GetValue(kid)!;
            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var key = await scope.ServiceProvider.GetRequiredService<SigningKeyRing>().WithdrawAsync(id, cancellationToken)
                ?? throw new CliException($"No published signing key has kid '{id}' (it may be withdrawn already); 'keys list' shows the kids.");
            scope.ServiceProvider.GetRequiredService<AuditLog>().Record(AuditEventTypes.KeyWithdrawn, null, $"kid {key.Id} by the operator command line");
            await scope.ServiceProvider.GetRequiredService<TokenServerDb>().SaveChangesAsync(cancellationToken);
            await host.Output.WriteLineAsync($"Withdrew key {key.Id}: tokens it signed are refused from now on.");
            return 0;
        });
        return command;
    }
}
