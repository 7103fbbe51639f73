using System.Text.Json.Serialization;

namespace TokenServer.Compat.NeMO;

// NeMO Archive login bodies (seeds/003, CONTRACTS.md "NeMO Archive dialect").

public sealed record NeMOLoginRequest(
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password);

public sealed record NeMOLoginResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("jwt")] string Jwt,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("first")] string First,
    [property: JsonPropertyName("last")] string Last,
    [property: JsonPropertyName("expireAt")] long ExpireAt);

public sealed record NeMOMessage([property: JsonPropertyName("message")] string Message);
