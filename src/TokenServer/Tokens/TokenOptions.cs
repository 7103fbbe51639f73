using Microsoft.Extensions.Options;

namespace TokenServer.Tokens;

/// <summary>Bound from the <c>TokenServer</c> section. Every lifetime is a TimeSpan ("01:00:00", "14.00:00:00").</summary>
public sealed class TokenOptions
{
    public const string Section = "TokenServer";

    /// <summary><c>iss</c> of every token (CONTRACTS.md operator contract).</summary>
    public string Issuer { get; set; } = "http://localhost:8000";

    /// <summary><c>aud</c> of every token.</summary>
    public string Audience { get; set; } = "tokenserver";

    /// <summary><c>ES256</c> (default) or <c>RS256</c>: the algorithm of newly created signing keys.</summary>
    public string SigningAlgorithm { get; set; } = "ES256";

    /// <summary>Native access-token lifetime (the SeqDB seed: 3600 s).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an unused refresh token stays redeemable.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Absolute lifetime of a login session: no refresh, and no access token, outlives it.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Tolerance for <c>nbf</c> and <c>iat</c> between instances' clocks. <c>exp</c> is exact.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often each instance reads revocations made by other instances.</summary>
    public TimeSpan RevocationPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest presented token accepted; longer ones are refused before any parsing (RFC 8725 §3.x hygiene).</summary>
    public int MaxTokenLength { get; set; } = 8192;

    public KeyOptions Keys { get; set; } = new();
}

public sealed class KeyOptions
{
    /// <summary>Age at which the signing key is replaced.</summary>
    public TimeSpan RotationInterval { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long a new key is published in JWKS before it signs, so verifiers that cache JWKS learn it first.</summary>
    public TimeSpan PublishLead { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a key stays in JWKS after it stopped signing: at least the longest token lifetime.</summary>
    public TimeSpan RetainAfterRetirement { get; set; } = TimeSpan.FromDays(366);

    /// <summary>How often each instance reloads the key ring from the store (keys rotated elsewhere).</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions o)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(o.Issuer, UriKind.Absolute, out _))
        {
            errors.Add($"TokenServer:Issuer must be an absolute URL, not '{o.Issuer}'.");
        }

        if (string.IsNullOrWhiteSpace(o.Audience))
        {
            errors.Add("TokenServer:Audience must not be empty.");
        }

        if (o.SigningAlgorithm is not (SigningAlgorithms.ES256 or SigningAlgorithms.RS256))
        {
            errors.Add($"TokenServer:SigningAlgorithm must be ES256 or RS256, not '{o.SigningAlgorithm}'.");
        }

        Positive(errors, "TokenServer:AccessTokenLifetime", o.AccessTokenLifetime);
        Positive(errors, "TokenServer:RefreshTokenLifetime", o.RefreshTokenLifetime);
        Positive(errors, "TokenServer:SessionLifetime", o.SessionLifetime);
        Positive(errors, "TokenServer:RevocationPollInterval", o.RevocationPollInterval);
        Positive(errors, "TokenServer:Keys:RotationInterval", o.Keys.RotationInterval);
        Positive(errors, "TokenServer:Keys:ReloadInterval", o.Keys.ReloadInterval);
        if (o.ClockSkew < TimeSpan.Zero || o.ClockSkew > TimeSpan.FromMinutes(5))
        {
            errors.Add("TokenServer:ClockSkew must be between 00:00:00 and 00:05:00.");
        }

        if (o.Keys.PublishLead < TimeSpan.Zero || o.Keys.PublishLead >= o.Keys.RotationInterval)
        {
            errors.Add("TokenServer:Keys:PublishLead must be at least zero and shorter than TokenServer:Keys:RotationInterval.");
        }

        if (o.Keys.RetainAfterRetirement < o.AccessTokenLifetime)
        {
            errors.Add("TokenServer:Keys:RetainAfterRetirement must be at least TokenServer:AccessTokenLifetime, or tokens would outlive their key in JWKS.");
        }

        if (o.MaxTokenLength is < 512 or > 65536)
        {
            errors.Add("TokenServer:MaxTokenLength must be between 512 and 65536.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key} must be a positive duration such as 01:00:00.");
        }
    }
}

public static class SigningAlgorithms
{
    public const string ES256 = "ES256";
    public const string RS256 = "RS256";

    /// <summary>The only algorithms a presented token may name (RFC 8725 §3.1): never none, never HMAC.</summary>
    public static readonly IReadOnlyList<string> Allowed = [ES256, RS256];
}
