using System.Text.Json.Serialization;

namespace TokenServer.Federation;

/// <summary>One of the caller's linked upstream identities.</summary>
public sealed record LinkedIdentityResponse(
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("display_name")] string DisplayName,
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset LastUsedAt);

/// <summary>A configured upstream provider and the redirect URI to register there (CONTRACTS.md "Upstream identity providers").</summary>
public sealed record ProviderResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("display_name")] string DisplayName,
    [property: JsonPropertyName("authority")] string Authority,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("redirect_uri")] string RedirectUri);
