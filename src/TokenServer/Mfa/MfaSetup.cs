namespace TokenServer.Mfa;

public static class MfaSetup
{
    public static WebApplicationBuilder AddMfa(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<MultiFactor>();
        return builder;
    }
}
