using System.Text.Json.Serialization;

namespace TokenServer.Email;

public sealed record EmailAddressRequest([property: JsonPropertyName("email")] string? Email);

public sealed record PasswordResetRequest(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("new_password")] string? NewPassword);

public sealed record EmailTokenRequest([property: JsonPropertyName("token")] string? Token);

public sealed record EmailChangeRequest(
    [property: JsonPropertyName("new_email")] string? NewEmail,
    [property: JsonPropertyName("password")] string? Password);
