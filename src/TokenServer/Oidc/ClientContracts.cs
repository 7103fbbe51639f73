using System.Text.Json.Serialization;

namespace TokenServer.Oidc;

/// <summary>POST /api/v1/admin/clients and the seed file's entries (CONTRACTS.md).</summary>
public sealed record ClientRequest(
    [property: JsonPropertyName("client_id")] string? ClientId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("redirect_uris")] List<string>? RedirectUris,
    [property: JsonPropertyName("post_logout_redirect_uris")] List<string>? PostLogoutRedirectUris,
    [property: JsonPropertyName("grant_types")] List<string>? GrantTypes,
    [property: JsonPropertyName("scopes")] List<string>? Scopes,
    [property: JsonPropertyName("first_party")] bool? FirstParty,
    [property: JsonPropertyName("backchannel_logout_uri")] string? BackchannelLogoutUri,
    [property: JsonPropertyName("audience")] string? Audience,
    [property: JsonPropertyName("access_token_lifetime")] int? AccessTokenLifetime,
    [property: JsonPropertyName("client_secret")] string? ClientSecret = null);

public sealed record ClientResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("redirect_uris")] IReadOnlyList<string> RedirectUris,
    [property: JsonPropertyName("post_logout_redirect_uris")] IReadOnlyList<string> PostLogoutRedirectUris,
    [property: JsonPropertyName("grant_types")] IReadOnlyList<string> GrantTypes,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("first_party")] bool FirstParty,
    [property: JsonPropertyName("backchannel_logout_uri")] string? BackchannelLogoutUri,
    [property: JsonPropertyName("audience")] string? Audience,
    [property: JsonPropertyName("access_token_lifetime")] int? AccessTokenLifetime,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("client_secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientSecret = null)
{
    public static ClientResponse From(OidcClient c, string? secret = null) => new(
        c.ClientId, c.Name, c.Type, c.RedirectUris, c.PostLogoutRedirectUris, c.GrantTypes, c.Scopes, c.FirstParty,
        c.BackchannelLogoutUri, c.Audience, c.AccessTokenLifetimeSeconds, c.CreatedAt, secret);
}
