using System.Text.Json.Serialization;

namespace TokenServer.Mfa;

/// <summary>The answer to a right password of an MFA account, from the login routes (401).</summary>
public sealed record MfaRequiredResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("mfa_token")] string MfaToken);

public sealed record TotpEnrolmentResponse(
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("otpauth_uri")] string OtpauthUri);

public sealed record MfaCodeRequest([property: JsonPropertyName("code")] string? Code);

public sealed record RecoveryCodesResponse([property: JsonPropertyName("recovery_codes")] IReadOnlyList<string> RecoveryCodes);

public sealed record MfaAnswerRequest(
    [property: JsonPropertyName("mfa_token")] string? MfaToken,
    [property: JsonPropertyName("code")] string? Code);
