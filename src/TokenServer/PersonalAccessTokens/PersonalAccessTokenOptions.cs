using Microsoft.Extensions.Options;

namespace TokenServer.PersonalAccessTokens;

/// <summary>Bound from <c>TokenServer:PersonalAccessTokens</c> (docs/decisions.md, "Personal access tokens").</summary>
public sealed class PersonalAccessTokenOptions
{
    public const string Section = "TokenServer:PersonalAccessTokens";

    /// <summary>The longest expiry a person may choose.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>The expiry of a token created without <c>expires_at</c>.</summary>
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromDays(30);
}

internal sealed class PersonalAccessTokenOptionsValidator : IValidateOptions<PersonalAccessTokenOptions>
{
    public ValidateOptionsResult Validate(string? name, PersonalAccessTokenOptions o)
    {
        var errors = new List<string>();
        if (o.MaxLifetime < TimeSpan.FromHours(1) || o.MaxLifetime > TimeSpan.FromDays(3660))
        {
            errors.Add($"{PersonalAccessTokenOptions.Section}:MaxLifetime must be between 01:00:00 and 3660.00:00:00 (ten years); it is {o.MaxLifetime}.");
        }

        if (o.DefaultLifetime <= TimeSpan.Zero || o.DefaultLifetime > o.MaxLifetime)
        {
            errors.Add($"{PersonalAccessTokenOptions.Section}:DefaultLifetime must be positive and at most {PersonalAccessTokenOptions.Section}:MaxLifetime; it is {o.DefaultLifetime}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
