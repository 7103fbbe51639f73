using TokenServer.Store;

namespace TokenServer.Mfa;

public static class MfaSetup
{
    public static WebApplicationBuilder AddMfa(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<MultiFactor>();
        builder.Services.AddScoped<IPruningStep, MfaPruning>();
        return builder;
    }
}
