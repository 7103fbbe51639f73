using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Compat.LifeNome;
using TokenServer.Compat.NeMO;
using TokenServer.Compat.TetraScience;
using TokenServer.Compat.TrackHub;

namespace TokenServer.Compat;

public static class DialectsSetup
{
    public static WebApplicationBuilder AddDialects(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DialectOptions>().BindConfiguration(DialectOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DialectOptions>, DialectOptionsValidator>();
        services.AddTetraScienceLegacyApiKey();
        return builder;
    }

    /// <summary>
    /// Maps every enabled dialect. A disabled one is not mapped at all, so its paths answer 404
    /// whatever the request carries. Reading the options here validates them before the server listens.
    /// </summary>
    public static IEndpointRouteBuilder MapDialects(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<DialectOptions>>().Value;
        if (options.LifeNome.Enabled)
        {
            app.MapLifeNome();
        }

        if (options.TrackHub.Enabled)
        {
            app.MapTrackHub();
        }

        if (options.NeMO.Enabled)
        {
            app.MapNeMO();
        }

        if (options.TetraScience.Enabled)
        {
            app.MapTetraScience();
        }

        app.MapPersonalToken(TetraScienceEndpoints.Dialect, options.TetraScience.AccessTokenLifetime, TetraScienceEndpoints.PersonalTokenClaims);
        return app;
    }
}

/// <summary>First and last name for dialects whose profiles split them (NeMO, TetraScience); the store keeps one full name.</summary>
public static class PersonName
{
    public static (string First, string Last) Split(string fullName)
    {
        var trimmed = fullName.Trim();
        var space = trimmed.LastIndexOf(' ');
        return space <= 0 ? (trimmed, string.Empty) : (trimmed[..space].TrimEnd(), trimmed[(space + 1)..]);
    }
}
