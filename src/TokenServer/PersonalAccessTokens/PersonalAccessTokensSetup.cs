using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using TokenServer.Tokens;

using TokenServer.Store;

namespace TokenServer.PersonalAccessTokens;

public static class PersonalAccessTokensSetup
{
    /// <summary>The default authentication scheme once personal access tokens exist: it picks PAT or JWT by the token's prefix.</summary>
    public const string SelectorScheme = "PresentedToken";

    public static WebApplicationBuilder AddPersonalAccessTokens(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PersonalAccessTokenOptions>().BindConfiguration(PersonalAccessTokenOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PersonalAccessTokenOptions>, PersonalAccessTokenOptionsValidator>();
        services.AddSingleton<PersonalAccessTokenCache>();
        services.AddScoped<PersonalAccessTokenRevocation>();
        services.AddScoped<PersonalAccessTokenIssuer>();
        services.AddScoped<IPruningStep, PersonalAccessTokenPruning>();

        // Every protected route and every front door goes through the default scheme, so a
        // personal access token works wherever an access token does, in every header scheme.
        services.AddAuthentication(SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, PersonalAccessTokenAuthentication>(PersonalAccessTokenAuthentication.SchemeName, null)
            .AddPolicyScheme(SelectorScheme, null, o => o.ForwardDefaultSelector = context =>
                PresentedToken.From(context).Token?.StartsWith(PersonalAccessTokenFormat.Prefix, StringComparison.Ordinal) == true
                    ? PersonalAccessTokenAuthentication.SchemeName
                    : JwtBearerDefaults.AuthenticationScheme);
        return builder;
    }
}
