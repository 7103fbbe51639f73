using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Oidc;
using TokenServer.Tokens;

namespace TokenServer.Auth;

public sealed record DiscoveryDocument(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("revocation_endpoint")] string RevocationEndpoint,
    [property: JsonPropertyName("introspection_endpoint")] string IntrospectionEndpoint,
    [property: JsonPropertyName("grant_types_supported")] IReadOnlyList<string> GrantTypes,
    [property: JsonPropertyName("response_types_supported")] IReadOnlyList<string> ResponseTypes,
    [property: JsonPropertyName("token_endpoint_auth_methods_supported")] IReadOnlyList<string> TokenEndpointAuthMethods,
    [property: JsonPropertyName("revocation_endpoint_auth_methods_supported")] IReadOnlyList<string> RevocationAuthMethods,
    [property: JsonPropertyName("introspection_endpoint_auth_methods_supported")] IReadOnlyList<string> IntrospectionAuthMethods,
    [property: JsonPropertyName("subject_types_supported")] IReadOnlyList<string> SubjectTypes,
    [property: JsonPropertyName("id_token_signing_alg_values_supported")] IReadOnlyList<string> SigningAlgorithms,
    [property: JsonPropertyName("claims_supported")] IReadOnlyList<string> Claims,
    [property: JsonPropertyName("authorization_endpoint")] string AuthorizationEndpoint,
    [property: JsonPropertyName("userinfo_endpoint")] string UserInfoEndpoint,
    [property: JsonPropertyName("end_session_endpoint")] string EndSessionEndpoint,
    [property: JsonPropertyName("device_authorization_endpoint")] string DeviceAuthorizationEndpoint,
    [property: JsonPropertyName("scopes_supported")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("response_modes_supported")] IReadOnlyList<string> ResponseModes,
    [property: JsonPropertyName("code_challenge_methods_supported")] IReadOnlyList<string> CodeChallengeMethods,
    [property: JsonPropertyName("prompt_values_supported")] IReadOnlyList<string> PromptValues,
    [property: JsonPropertyName("claims_parameter_supported")] bool ClaimsParameterSupported,
    [property: JsonPropertyName("request_parameter_supported")] bool RequestParameterSupported,
    [property: JsonPropertyName("request_uri_parameter_supported")] bool RequestUriParameterSupported,
    [property: JsonPropertyName("authorization_response_iss_parameter_supported")] bool IssParameterSupported,
    [property: JsonPropertyName("backchannel_logout_supported")] bool BackchannelLogoutSupported,
    [property: JsonPropertyName("backchannel_logout_session_supported")] bool BackchannelLogoutSessionSupported);

/// <summary>Discovery (OpenID Connect Discovery 1.0 §3, RFC 8414) and the JWKS a resource server verifies tokens with.</summary>
public static class WellKnownEndpoints
{
    public static IEndpointRouteBuilder MapWellKnown(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/.well-known").WithTags("Discovery").RequireCors(BrowserAppCors.Policy);
        group.MapGet("/jwks.json", (SigningKeyRing keys, HttpResponse response) =>
        {
            // Short public caching: a new key is published PublishLead before it signs.
            response.Headers.CacheControl = "public, max-age=300";
            return TypedResults.Text(keys.JwksJson, "application/json");
        }).WithSummary("Public signing keys (RFC 7517)");
        group.MapGet("/openid-configuration", Discovery).WithSummary("Server metadata");
        group.MapGet("/oauth-authorization-server", Discovery).WithSummary("Server metadata (RFC 8414)");
        return app;
    }

    private static Ok<DiscoveryDocument> Discovery(IOptions<TokenOptions> options, IOptions<OidcOptions> oidc)
    {
        var o = options.Value;
        var root = o.Issuer.TrimEnd('/');
        return TypedResults.Ok(new DiscoveryDocument(
            o.Issuer,
            $"{root}/.well-known/jwks.json",
            $"{root}/api/v1/auth/token",
            $"{root}/api/v1/auth/revoke",
            $"{root}/api/v1/auth/introspect",
            [OidcGrantTypes.AuthorizationCode, OAuthEndpoints.GrantPassword, OAuthEndpoints.GrantRefreshToken, OAuthEndpoints.GrantClientCredentials, OidcGrantTypes.DeviceCode],
            ["code"],
            // Public clients send no credentials; service users authenticate as RFC 6749 §2.3.1 allows.
            ["none", "client_secret_basic", "client_secret_post"],
            ["bearer"],
            ["bearer"],
            ["public"],
            SigningAlgorithms.Allowed,
            ["iss", "aud", "sub", "jti", "iat", "nbf", "exp", "sid", "auth_time", "nonce", "amr", "acr", "azp", "name", "email", "email_verified", "preferred_username", "role", "dialect", "client_id", "scope"],
            root + AuthorizeEndpoints.AuthorizePath,
            root + OidcSessionEndpoints.UserInfoPath,
            root + OidcSessionEndpoints.EndSessionPath,
            root + DeviceEndpoints.DeviceAuthorizationPath,
            OidcScopes.Supported(oidc.Value),
            ["query"],
            ["S256"],
            ["none", "login", "consent"],
            false,
            false,
            false,
            true,
            true,
            true));
    }
}
