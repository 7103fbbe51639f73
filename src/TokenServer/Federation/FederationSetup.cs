using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using TokenServer.Oidc;
using TokenServer.Tokens;

namespace TokenServer.Federation;

/// <summary>
/// Upstream OpenID providers (docs/federation.md): ASP.NET Core's OpenID Connect handler, one
/// scheme per provider, does the protocol (PKCE, state, nonce, ID token validation against the
/// provider's discovery document and keys); TokenServer adds the RFC 9207 <c>iss</c> check the
/// handler lacks and decides which account the upstream identity is (<see cref="FederatedSignIn"/>).
/// </summary>
public static class FederationSetup
{
    /// <summary>Holds the validated upstream identity for a few minutes, between the callback and the account decision.</summary>
    public const string ExternalScheme = "TokenServer.External";
    public const string ExternalCookieName = "tokenserver.external";

    public static WebApplicationBuilder AddFederation(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ExternalProvidersOptions>()
            .Configure<IConfiguration>((o, configuration) =>
            {
                foreach (var section in configuration.GetSection(ExternalProvidersOptions.Section).GetChildren())
                {
                    o.Providers[section.Key] = section.Get<ExternalProvider>() ?? new ExternalProvider();
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExternalProvidersOptions>, ExternalProvidersOptionsValidator>();
        services.AddScoped<FederatedSignIn>();

        var authentication = services.AddAuthentication().AddCookie(ExternalScheme, o =>
        {
            o.Cookie.Name = ExternalCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromMinutes(10);
            o.SlidingExpiration = false;
        });

        // Schemes are fixed when the host is built, so the provider names are read from configuration here.
        foreach (var provider in builder.Configuration.GetSection(ExternalProvidersOptions.Section).GetChildren())
        {
            var name = provider.Key;
            authentication.AddOpenIdConnect(ExternalProvidersOptions.SchemeOf(name), ExternalProvidersOptions.DisplayNameOf(name, provider.Get<ExternalProvider>() ?? new()), _ => { });
            services.AddOptions<OpenIdConnectOptions>(ExternalProvidersOptions.SchemeOf(name))
                .Configure<IOptions<ExternalProvidersOptions>>((o, providers) => Configure(o, name, providers.Value.Find(name)!));
        }

        return builder;
    }

    private static void Configure(OpenIdConnectOptions o, string name, ExternalProvider provider)
    {
        o.Authority = provider.Authority;
        o.ClientId = provider.ClientId;
        o.ClientSecret = provider.ClientSecret;
        o.RequireHttpsMetadata = provider.RequireHttpsMetadata;
        o.CallbackPath = ExternalProvidersOptions.CallbackPath(name);
        o.SignInScheme = ExternalScheme;
        o.ResponseType = OpenIdConnectResponseType.Code;

        // The answer comes back as a top-level GET (RFC 6749 §4.1.2), so the correlation and
        // nonce cookies can be SameSite=Lax and need no Secure attribute on a plain-http test server.
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.SaveTokens = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.MapInboundClaims = false;
        o.Scope.Clear();
        foreach (var scope in OidcScopes.Parse(provider.Scopes))
        {
            o.Scope.Add(scope);
        }

        // Keep what TokenServer reads: the issuer for the link, amr and acr for its own ID token.
        o.ClaimActions.Remove("iss");
        o.ClaimActions.Remove("amr");
        o.ClaimActions.Remove("acr");
        o.TokenValidationParameters.ValidAlgorithms = SigningAlgorithms.Allowed;
        o.Events.OnMessageReceived = CheckResponseIssuerAsync;
        o.Events.OnRemoteFailure = context =>
        {
            // Wrong state, nonce, iss or code: the user sees the sign-in page again with a
            // message; what went wrong is logged by the handler.
            context.HandleResponse();
            var returnUrl = context.Properties?.Items.TryGetValue(UpstreamIdentity.ReturnUrlItem, out var url) == true ? url : null;
            context.Response.Redirect(FederationEndpoints.FailedUrl(name, "failed", returnUrl));
            return Task.CompletedTask;
        };
    }

    /// <summary>
    /// RFC 9207 §2.4: an authorization response's <c>iss</c> must be the issuer the request was
    /// sent to, and must be there when the provider's metadata says it sends one. This stops a
    /// mix-up (a response from one provider taken for another's) before any code is redeemed.
    /// ASP.NET Core's handler checks <c>iss</c> only on front-channel sign-out requests.
    /// </summary>
    private static async Task CheckResponseIssuerAsync(MessageReceivedContext context)
    {
        var configuration = await context.Options.ConfigurationManager!.GetConfigurationAsync(context.HttpContext.RequestAborted);
        var iss = context.ProtocolMessage.Iss;
        if (iss is null ? configuration.AuthorizationResponseIssParameterSupported : !string.Equals(iss, configuration.Issuer, StringComparison.Ordinal))
        {
            context.Fail(iss is null
                ? "The authorization response has no iss parameter, which the provider's metadata promises (RFC 9207 §2.4)."
                : $"The authorization response's iss '{iss}' is not the provider's issuer '{configuration.Issuer}' (RFC 9207 §2.4).");
        }
    }
}
