using System.Text.Json.Serialization;

namespace TokenServer.Compat.TrackHub;

// TrackHub Registry bodies (seeds/002, CONTRACTS.md "TrackHub Registry dialect").

public sealed record TrackHubLoginRequest(
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password);

public sealed record TrackHubLoginResponse(
    [property: JsonPropertyName("auth_token")] string AuthToken,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("is_account_activated")] bool IsAccountActivated);

public sealed record TrackHubMessage([property: JsonPropertyName("message")] string Message);

/// <summary>Catalyst::Controller::REST's status_* helpers answer <c>{"error": "..."}</c>.</summary>
public sealed record TrackHubError([property: JsonPropertyName("error")] string Error);
