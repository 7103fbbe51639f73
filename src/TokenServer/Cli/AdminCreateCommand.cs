using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Cli;

internal static class AdminCreateCommand
{
    public static Command Create(CliHost host)
    {
        var email = new Argument<string>("email") { Description = "The administrator's email address." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input (otherwise a random one is generated and printed)." };
        var command = new Command("create", "Create an administrator, or reset an existing account's password and make it an administrator.") { email, passwordStdin };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var address = parsed.GetValue(email)!.Trim();
            string password;
            var generated = !parsed.GetValue(passwordStdin);
            if (generated)
            {
                password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
            }
            else
            {
                password = await Console.In.ReadLineAsync(cancellationToken) ?? throw new CliException("--password-stdin: standard input was empty; pipe the password in.");
            }

            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var services = scope.ServiceProvider;
            var registry = services.GetRequiredService<AccountRegistry>();
            var errors = registry.Validate(address, password, "Administrator", AccountRoles.Admin, null);
            if (errors.Count > 0)
            {
                throw new CliException(string.Join(" ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
            }

            var db = services.GetRequiredService<TokenServerDb>();
            var normalized = CredentialChecker.Normalize(address);
            var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized, cancellationToken);
            if (account is null)
            {
                var (created, _) = await registry.CreateAsync(new NewAccount(address, password, "Administrator", AccountRoles.Admin, null), null, cancellationToken);
                _ = created ?? throw new CliException($"{address} is another account's username.");
                await host.Output.WriteLineAsync($"Created administrator {address}.");
            }
            else
            {
                account.PasswordHash = await services.GetRequiredService<PasswordHasher>().HashAsync(password, cancellationToken);
                account.Role = AccountRoles.Admin;
                account.Status = AccountStatuses.Active;
                await services.GetRequiredService<LoginThrottles>().ClearAccountAsync(account, cancellationToken);
                account.LockoutEnd = null;
                account.SecurityStamp = Guid.NewGuid().ToString("N");
                services.GetRequiredService<AuditLog>().Record(AuditEventTypes.PasswordReset, account.Id, "by the operator command line");
                await db.SaveChangesAsync(cancellationToken);
                await host.Output.WriteLineAsync($"Reset {address}: administrator, active, new password.");
            }

            if (generated)
            {
                await host.Output.WriteLineAsync($"Password: {password}");
            }

            return 0;
        });
        return command;
    }
}
