using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using TokenServer.Store;

namespace TokenServer.Users;

public static class Policies
{
    /// <summary>A caller whose live system role (<see cref="Caller.Role"/>, from the store) is <c>admin</c>.</summary>
    public const string Admin = "admin";
}

public static class UsersSetup
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<AccountDirectory>();
        services.AddSingleton<IAccountChangeObserver>(s => s.GetRequiredService<AccountDirectory>());
        services.AddSingleton<IInterceptor, AccountChangeInterceptor>();
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BootstrapOptions>, BootstrapOptionsValidator>();
        services.AddScoped<AccountRegistry>();
        services.AddScoped<AccountImport>();
        services.AddHostedService<AdminBootstrap>();
        services.AddSingleton<IAuthorizationHandler, LiveAdminHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().AddRequirements(LiveAdminRequirement.Instance));
        return builder;
    }
}

/// <summary>The admin policy reads the caller's live role, never the token's <c>role</c> claim, which outlives a demotion.</summary>
internal sealed class LiveAdminRequirement : IAuthorizationRequirement
{
    public static readonly LiveAdminRequirement Instance = new();
}

internal sealed class LiveAdminHandler : AuthorizationHandler<LiveAdminRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, LiveAdminRequirement requirement)
    {
        if (context.Resource is HttpContext http && (await Caller.OfAsync(http)).IsAdmin)
        {
            context.Succeed(requirement);
        }
    }
}
