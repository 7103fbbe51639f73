using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Auth;

/// <summary>Issue 5's cross-cutting defences; docs/security.md describes each and its settings.</summary>
public static class SecuritySetup
{
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<HashGate>();
        services.AddCredentialLimits();

        services.AddOptions<PruningOptions>().BindConfiguration(PruningOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PruningOptions>, PruningOptionsValidator>();
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        services.AddScoped<StorePruning>();
        services.AddHostedService<StorePruner>();
        return builder;
    }
}
