using Microsoft.Extensions.Options;

namespace TokenServer.Auth;

public static class AuthSetup
{
    /// <summary>Passwords, lockout and the credential check that every front door's login uses.</summary>
    public static WebApplicationBuilder AddAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PasswordOptions>().BindConfiguration(PasswordOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordOptions>, PasswordOptionsValidator>();
        services.AddOptions<LockoutOptions>().BindConfiguration(LockoutOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LockoutOptions>, LockoutOptionsValidator>();
        services.AddSingleton<PasswordHasher>();
        services.AddScoped<CredentialChecker>();
        services.AddScoped<LoginThrottles>();
        services.AddScoped<PasswordChange>();
        services.AddScoped<AccountSessions>();
        return builder;
    }
}
