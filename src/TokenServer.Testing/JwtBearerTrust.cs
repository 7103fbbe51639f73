using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;

namespace TokenServer.Testing;

public static class JwtBearerTrust
{
    /// <summary>
    /// In the API's test host (<c>ConfigureTestServices</c>): its JwtBearer scheme trusts
    /// <paramref name="server"/>, after the API's own configuration ran.
    /// </summary>
    public static IServiceCollection TrustTestTokenServer(this IServiceCollection services, TestTokenServer server, string scheme = JwtBearerDefaults.AuthenticationScheme)
    {
        ArgumentNullException.ThrowIfNull(server);
        services.PostConfigure<JwtBearerOptions>(scheme, server.ConfigureJwtBearer);
        return services;
    }
}
