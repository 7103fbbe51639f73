using System.CommandLine;
using Microsoft.Extensions.Options;

namespace TokenServer.Cli;

/// <summary>
/// The operator command line (CONTRACTS.md "Operator command line"): subcommands of the
/// server's own binary, reading the same configuration, never starting the server. Each
/// command is one class with a <c>Create(CliHost)</c>; the table below lists them.
/// </summary>
public static class Cli
{
    /// <summary>Runs a subcommand and returns true, or returns false when the arguments ask for the server.</summary>
    public static async Task<bool> TryRunAsync(string[] args, WebApplicationBuilder builder)
    {
        if (args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("--help" or "-h" or "-?")))
        {
            return false;
        }

        Environment.ExitCode = await RunAsync(args, builder, Console.Out, Console.Error);
        return true;
    }

    internal static async Task<int> RunAsync(string[] args, WebApplicationBuilder builder, TextWriter output, TextWriter error)
    {
        await using var host = new CliHost(builder, output);
        var root = new RootCommand("TokenServer: run with no command to start the server, or give an operator command.")
        {
            MigrateCommand.Create(host),
            Group("config", "The configuration.", ConfigCheckCommand.Create(host)),
            Group("admin", "Administrators.", AdminCreateCommand.Create(host)),
            Group("accounts", "Accounts: import, export, legacy password hashes.", AccountsImportCommand.Create(host), AccountsExportCommand.Create(host), AccountsLegacyReportCommand.Create(host)),
            Group("keys", "The signing-key ring.", KeysListCommand.Create(host), KeysRotateCommand.Create(host), KeysWithdrawCommand.Create(host)),
            Group("clients", "Registered OpenID Connect clients.", ClientsAddCommand.Create(host), ClientsListCommand.Create(host)),
            Group("service-users", "Organizations' service users (client credentials).", ServiceUsersAddCommand.Create(host), ServiceUsersListCommand.Create(host)),
            PruneCommand.Create(host),
            Group("store", "The store.", StoreBackupCommand.Create(host)),
        };

        var parsed = root.Parse(args);
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CliException or OptionsValidationException or IOException or UnauthorizedAccessException or InvalidDataException or System.ComponentModel.DataAnnotations.ValidationException or InvalidOperationException or Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException)
        {
            await error.WriteLineAsync($"error: {OneLine(e)}");
            return 1;
        }
    }

    private static Command Group(string name, string description, params Command[] commands)
    {
        var group = new Command(name, description);
        foreach (var command in commands)
        {
            group.Subcommands.Add(command);
        }

        return group;
    }

    private static string OneLine(Exception e)
    {
        var message = e is OptionsValidationException o ? string.Join(" ", o.Failures) : e.Message;
        return message.ReplaceLineEndings(" ");
    }
}

/// <summary>A mistake the operator can fix; its message says how, and the command exits 1.</summary>
public sealed class CliException(string message) : Exception(message);
