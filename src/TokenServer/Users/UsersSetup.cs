using Microsoft.Extensions.Options;
using TokenServer.Auth;

namespace TokenServer.Users;

public static class UsersSetup
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PasswordOptions>().BindConfiguration(PasswordOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordOptions>, PasswordOptionsValidator>();
        services.AddOptions<LockoutOptions>().BindConfiguration(LockoutOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LockoutOptions>, LockoutOptionsValidator>();
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BootstrapOptions>, BootstrapOptionsValidator>();
        services.AddSingleton<PasswordHasher>();
        services.AddScoped<CredentialChecker>();
        services.AddScoped<LoginThrottles>();
        services.AddScoped<AccountRegistry>();
        services.AddHostedService<AdminBootstrap>();
        return builder;
    }
}
