using Microsoft.Extensions.Options;

namespace TokenServer.Oidc;

/// <summary>Bound from <c>TokenServer:Oidc</c> (docs/oidc.md).</summary>
public sealed class OidcOptions
{
    public const string Section = "TokenServer:Oidc";

    /// <summary>
    /// A JSON file of clients in the admin API's request shape (plus <c>client_secret</c> for a
    /// confidential one), created or updated at every start. Unset: no file is read.
    /// </summary>
    public string? ClientsFile { get; set; }

    /// <summary>How long an authorization code may be redeemed; at most 60 s (RFC 6749 §4.1.2 recommends 10 minutes at most).</summary>
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a browser's single sign-on session lasts after sign-in.</summary>
    public TimeSpan BrowserSessionLifetime { get; set; } = TimeSpan.FromHours(12);

    public TimeSpan IdTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a device's user code may be entered (RFC 8628 §3.2 expires_in).</summary>
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Seconds a device waits between polls (RFC 8628 §3.2 interval).</summary>
    public int DevicePollInterval { get; set; } = 5;

    /// <summary>Registers the public client <c>swagger-ui</c> at start, so Swagger UI's Authorize offers the code flow with PKCE.</summary>
    public bool SwaggerClient { get; set; } = true;

    /// <summary>Scopes for resource servers a client may be registered with, besides openid, profile, email and offline_access.</summary>
    public List<string> ResourceScopes { get; set; } = ["read", "write"];
}

internal sealed class OidcOptionsValidator : IValidateOptions<OidcOptions>
{
    public ValidateOptionsResult Validate(string? name, OidcOptions o)
    {
        var errors = new List<string>();
        if (o.CodeLifetime <= TimeSpan.Zero || o.CodeLifetime > TimeSpan.FromSeconds(60))
        {
            errors.Add("TokenServer:Oidc:CodeLifetime must be between 00:00:01 and 00:01:00.");
        }

        if (o.BrowserSessionLifetime < TimeSpan.FromMinutes(1))
        {
            errors.Add("TokenServer:Oidc:BrowserSessionLifetime must be at least 00:01:00.");
        }

        if (o.IdTokenLifetime < TimeSpan.FromSeconds(30) || o.IdTokenLifetime > TimeSpan.FromHours(1))
        {
            errors.Add("TokenServer:Oidc:IdTokenLifetime must be between 00:00:30 and 01:00:00.");
        }

        if (o.DeviceCodeLifetime < TimeSpan.FromMinutes(1) || o.DeviceCodeLifetime > TimeSpan.FromMinutes(30))
        {
            errors.Add("TokenServer:Oidc:DeviceCodeLifetime must be between 00:01:00 and 00:30:00.");
        }

        if (o.DevicePollInterval is < 1 or > 60)
        {
            errors.Add("TokenServer:Oidc:DevicePollInterval must be between 1 and 60 seconds.");
        }

        if (!string.IsNullOrWhiteSpace(o.ClientsFile) && !File.Exists(o.ClientsFile))
        {
            errors.Add($"TokenServer:Oidc:ClientsFile names '{o.ClientsFile}', which does not exist.");
        }

        if (o.ResourceScopes.Any(s => !OidcScopes.IsWellFormed(s) || OidcScopes.Standard.Contains(s)))
        {
            errors.Add("TokenServer:Oidc:ResourceScopes must be scope tokens (RFC 6749 §3.3) other than the OpenID Connect ones.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class OidcScopes
{
    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";

    public static readonly IReadOnlyList<string> Standard = [OpenId, Profile, Email, OfflineAccess];

    /// <summary>RFC 6749 §3.3 scope-token characters.</summary>
    public static bool IsWellFormed(string scope) =>
        scope.Length is > 0 and <= 100 && scope.All(c => c is '!' or (>= '#' and <= '[') or (>= ']' and <= '~'));

    public static IReadOnlyList<string> Supported(OidcOptions options) => [.. Standard, .. options.ResourceScopes];

    public static List<string> Parse(string? scope) =>
        (scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
}

public static class OidcGrantTypes
{
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";
    public const string DeviceCode = "urn:ietf:params:oauth:grant-type:device_code";

    public static readonly IReadOnlyList<string> ForClients = [AuthorizationCode, RefreshToken, DeviceCode];
}
