using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

public static class OidcSetup
{
    public static WebApplicationBuilder AddOidc(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OidcOptions>, OidcOptionsValidator>();
        services.AddScoped<ClientRegistry>();
        services.AddHostedService<ClientSeed>();
        services.AddScoped<AuthorizationRequests>();
        services.AddScoped<CodeGrant>();
        services.AddScoped<DeviceFlow>();
        services.AddScoped<BrowserSessions>();
        services.AddSingleton<BrowserSessionUse>();
        services.AddScoped<AuthorizedApps>();
        services.AddScoped<Logout>();
        services.AddScoped<ISessionEndListener, BackChannelLogout>();
        services.AddCors();
        services.AddSingleton<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider, BrowserAppCors>();
        services.AddHttpClient(BackChannelLogout.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(5));

        // The browser's single sign-on cookie; the bearer scheme stays the default for the APIs.
        services.AddAuthentication().AddCookie(BrowserSessions.Scheme);
        services.AddOptions<CookieAuthenticationOptions>(BrowserSessions.Scheme)
            .Configure<IOptions<OidcOptions>>((o, oidc) => BrowserSessions.Configure(o, oidc.Value.BrowserSessionLifetime));
        return builder;
    }

    public static IEndpointRouteBuilder MapOidc(this IEndpointRouteBuilder app)
    {
        app.MapAuthorize();
        app.MapOidcSessions();
        app.MapOidcClients();
        app.MapDeviceAuthorization();
        return app;
    }
}
