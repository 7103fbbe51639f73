using System.Text.Json.Serialization;

namespace TokenServer.Auth;

public sealed record RegisterRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("full_name")] string? FullName,
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("username")] string? Username);

public sealed record AccountResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record LoginRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password);

/// <summary>The SeqDB login response; <c>token_type</c> is lower case as in the contract.</summary>
public sealed record TokenPairResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

public sealed record RefreshRequest([property: JsonPropertyName("refresh_token")] string? RefreshToken);

public sealed record LogoutRequest([property: JsonPropertyName("refresh_token")] string? RefreshToken);

public sealed record MembershipResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role);

public sealed record MeResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_login_at")] DateTimeOffset? LastLoginAt,
    [property: JsonPropertyName("organizations")] IReadOnlyList<MembershipResponse> Organizations);

/// <summary>RFC 6749 §5.1.</summary>
public sealed record OAuthTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken,
    [property: JsonPropertyName("id_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? IdToken = null,
    [property: JsonPropertyName("scope"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Scope = null);

/// <summary>RFC 6749 §5.2.</summary>
public sealed record OAuthErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>RFC 7662 §2.2. Only <c>active</c> is present for an inactive token.</summary>
public sealed record IntrospectionResponse
{
    [JsonPropertyName("active")] public bool Active { get; init; }
    [JsonPropertyName("token_type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? TokenType { get; init; }
    [JsonPropertyName("client_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ClientId { get; init; }
    [JsonPropertyName("username"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Username { get; init; }
    [JsonPropertyName("sub"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Subject { get; init; }
    [JsonPropertyName("exp"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? ExpiresAt { get; init; }
    [JsonPropertyName("iat"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? IssuedAt { get; init; }
    [JsonPropertyName("nbf"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? NotBefore { get; init; }
    [JsonPropertyName("iss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Issuer { get; init; }
    [JsonPropertyName("aud"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Audience { get; init; }
    [JsonPropertyName("jti"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Jti { get; init; }
    [JsonPropertyName("sid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? SessionId { get; init; }
    [JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Role { get; init; }
    [JsonPropertyName("dialect"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Dialect { get; init; }
}

public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string UnsupportedTokenType = "unsupported_token_type";
}

/// <summary>The form fields of the token endpoint (RFC 6749 §4.3.2, §6), for the OpenAPI document.</summary>
public sealed record TokenRequestForm(
    [property: JsonPropertyName("grant_type")] string GrantType,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("client_id")] string? ClientId,
    [property: JsonPropertyName("client_secret")] string? ClientSecret,
    [property: JsonPropertyName("scope")] string? Scope);

/// <summary>The form fields of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1), for the OpenAPI document.</summary>
public sealed record TokenForm(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("token_type_hint")] string? TokenTypeHint);
