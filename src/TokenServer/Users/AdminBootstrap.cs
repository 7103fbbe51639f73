using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Store;

namespace TokenServer.Users;

public sealed class BootstrapOptions
{
    public const string Section = "TokenServer:Bootstrap";

    public string? AdminEmail { get; set; }

    public string? AdminPassword { get; set; }
}

internal sealed class BootstrapOptionsValidator(IOptions<PasswordOptions> passwords) : IValidateOptions<BootstrapOptions>
{
    public ValidateOptionsResult Validate(string? name, BootstrapOptions o)
    {
        if (string.IsNullOrEmpty(o.AdminEmail) && string.IsNullOrEmpty(o.AdminPassword))
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(o.AdminEmail) || !o.AdminEmail.Contains('@', StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Fail("TokenServer:Bootstrap:AdminEmail must be an email address when TokenServer:Bootstrap:AdminPassword is set.");
        }

        return PasswordPolicy.Check(o.AdminPassword, o.AdminEmail, passwords.Value) is { } problem
            ? ValidateOptionsResult.Fail($"TokenServer:Bootstrap:AdminPassword is not acceptable: {problem}")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>Creates the configured admin at start if no account has that email (CONTRACTS.md operator contract).</summary>
internal sealed class AdminBootstrap(IServiceScopeFactory scopes, IOptions<BootstrapOptions> options, ILogger<AdminBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.AdminEmail) || string.IsNullOrEmpty(o.AdminPassword))
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var normalized = CredentialChecker.Normalize(o.AdminEmail);
        var existingRole = await db.Accounts.Where(a => a.NormalizedEmail == normalized).Select(a => a.Role).FirstOrDefaultAsync(cancellationToken);
        if (existingRole == AccountRoles.Admin)
        {
            return;
        }

        if (existingRole is not null)
        {
            // Someone registered the operator's chosen email first: the operator must know that the
            // admin they configured does not exist (and that this account is not it).
            logger.LogWarning(
                "Bootstrap admin not created: {Email} (TokenServer:Bootstrap:AdminEmail) is already registered as a {Role} account. Promote that account if it is yours (PATCH /api/v1/admin/accounts/{{id}}), or choose another email.",
                o.AdminEmail, existingRole);
            return;
        }

        var registry = scope.ServiceProvider.GetRequiredService<AccountRegistry>();
        var (account, _) = await registry.CreateAsync(new NewAccount(o.AdminEmail, o.AdminPassword, "Administrator", AccountRoles.Admin, null), null, cancellationToken);
        if (account is not null)
        {
            // The operator chose this address; no mail could be confirmed before anyone can log in.
            account.EmailVerifiedAt = account.CreatedAt;
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Created bootstrap admin account {AccountId}", account.Id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
