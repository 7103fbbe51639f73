using System.Text.Json.Serialization;

namespace TokenServer.Compat.LifeNome;

// Django REST framework SimpleJWT request and response bodies (seeds/000, CONTRACTS.md "LifeNome dialect").

public sealed record LifeNomeTokenRequest(
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password);

public sealed record LifeNomeRefreshRequest([property: JsonPropertyName("refresh")] string? Refresh);

public sealed record LifeNomeVerifyRequest([property: JsonPropertyName("token")] string? Token);

/// <summary>TokenObtainPairView's answer, in the seed's order.</summary>
public sealed record LifeNomeTokenPair(
    [property: JsonPropertyName("refresh")] string Refresh,
    [property: JsonPropertyName("access")] string Access);

/// <summary>TokenRefreshView's answer with ROTATE_REFRESH_TOKENS on: a new refresh token each time.</summary>
public sealed record LifeNomeRefreshed(
    [property: JsonPropertyName("access")] string Access,
    [property: JsonPropertyName("refresh")] string Refresh);

/// <summary>TokenVerifyView's answer: an empty object.</summary>
public sealed record LifeNomeVerified;

/// <summary>DRF's error body: <c>{"detail": "..."}</c>.</summary>
public sealed record LifeNomeDetail([property: JsonPropertyName("detail")] string Detail);

/// <summary>SimpleJWT's InvalidToken on its own views: <c>{"detail", "code"}</c>.</summary>
public sealed record LifeNomeTokenError(
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("code")] string Code);

public sealed record LifeNomeTokenMessage(
    [property: JsonPropertyName("token_class")] string TokenClass,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("message")] string Message);

/// <summary>JWTAuthentication's InvalidToken on a protected view: <c>{"detail", "code", "messages"}</c>.</summary>
public sealed record LifeNomeInvalidToken(
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("messages")] IReadOnlyList<LifeNomeTokenMessage> Messages);
