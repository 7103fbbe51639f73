using TokenServer.Hosting;

namespace TokenServer.Auth;

/// <summary>The cross-cutting defences; docs/security.md describes each and its settings.</summary>
public static class SecuritySetup
{
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<HashGate>();
        services.AddCredentialLimits();
        return builder;
    }
}
