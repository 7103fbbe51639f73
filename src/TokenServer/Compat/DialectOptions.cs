using Microsoft.Extensions.Options;

namespace TokenServer.Compat;

/// <summary>One dialect's switch and token lifetime, bound from <c>TokenServer:Dialects:&lt;Name&gt;</c>.</summary>
public class DialectSettings
{
    /// <summary>When false the dialect's routes are not mapped at all, so they answer 404.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Lifetime of the access tokens this dialect issues.</summary>
    public TimeSpan AccessTokenLifetime { get; set; }
}

public sealed class TetraScienceSettings : DialectSettings
{
    public LegacyApiKeySettings LegacyApiKey { get; set; } = new();
}

public sealed class LegacyApiKeySettings
{
    /// <summary>
    /// The TetraScience seed (004) calls the API key deprecated, so it is off unless an operator
    /// switches it on for clients that cannot move yet.
    /// </summary>
    public bool Enabled { get; set; }
}

/// <summary>
/// The <c>TokenServer:Dialects</c> section. The native (SeqDB) API is not a dialect here: it is
/// always on and keeps <c>TokenServer:AccessTokenLifetime</c>. Each default is justified in
/// docs/dialects.md.
/// </summary>
public sealed class DialectOptions
{
    public const string Section = "TokenServer:Dialects";

    /// <summary>SimpleJWT's default ACCESS_TOKEN_LIFETIME is 5 minutes; clients refresh.</summary>
    public DialectSettings LifeNome { get; set; } = new() { AccessTokenLifetime = TimeSpan.FromMinutes(5) };

    /// <summary>No refresh route exists in the TrackHub API, so the token is the session: one working day.</summary>
    public DialectSettings TrackHub { get; set; } = new() { AccessTokenLifetime = TimeSpan.FromHours(24) };

    /// <summary>The NeMO seed (003): "Tokens have a lifetime of 24 hours."</summary>
    public DialectSettings NeMO { get; set; } = new() { AccessTokenLifetime = TimeSpan.FromHours(24) };

    /// <summary>The TetraScience seed (004): "the four-hour personal token".</summary>
    public TetraScienceSettings TetraScience { get; set; } = new() { AccessTokenLifetime = TimeSpan.FromHours(4) };
}

internal sealed class DialectOptionsValidator : IValidateOptions<DialectOptions>
{
    // No access token may outlive the longest session the store keeps revocations for.
    private static readonly TimeSpan Longest = TimeSpan.FromDays(30);

    public ValidateOptionsResult Validate(string? name, DialectOptions o)
    {
        var errors = new List<string>();
        Check(errors, nameof(DialectOptions.LifeNome), o.LifeNome);
        Check(errors, nameof(DialectOptions.TrackHub), o.TrackHub);
        Check(errors, nameof(DialectOptions.NeMO), o.NeMO);
        Check(errors, nameof(DialectOptions.TetraScience), o.TetraScience);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string dialect, DialectSettings settings)
    {
        if (settings.AccessTokenLifetime <= TimeSpan.Zero || settings.AccessTokenLifetime > Longest)
        {
            errors.Add($"{DialectOptions.Section}:{dialect}:AccessTokenLifetime must be a duration between 00:00:01 and 30.00:00:00, not '{settings.AccessTokenLifetime}'.");
        }
    }
}
