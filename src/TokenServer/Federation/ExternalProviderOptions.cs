using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using TokenServer.Oidc;
using TokenServer.Store;

namespace TokenServer.Federation;

/// <summary>
/// One upstream OpenID provider, bound from <c>TokenServer:ExternalProviders:&lt;Name&gt;</c>
/// (CONTRACTS.md operator contract; README "Sign in with your institution").
/// </summary>
public sealed class ExternalProvider
{
    /// <summary>The provider's issuer URL; its discovery document is read from <c>/.well-known/openid-configuration</c> under it.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The sign-in page's button label; the provider's name when unset.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Scopes asked of the provider, separated by spaces.</summary>
    public string Scopes { get; set; } = "openid profile email";

    /// <summary>Upstream claim values that grant an organization membership, re-evaluated at every sign-in.</summary>
    public List<ClaimMapping> ClaimMappings { get; set; } = [];

    /// <summary>Only for tests and development against a provider on plain http://localhost.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}

/// <summary>
/// An upstream claim (for example <c>eduperson_entitlement</c>) whose value grants a membership.
/// A claim with several values (a JSON array) grants when any value equals <see cref="Value"/>.
/// </summary>
public sealed class ClaimMapping
{
    public string? Claim { get; set; }

    public string? Value { get; set; }

    /// <summary>The organization's slug.</summary>
    public string? Organization { get; set; }

    public string Role { get; set; } = MembershipRoles.Member;
}

/// <summary>Bound from <c>TokenServer:ExternalProviders</c>: provider name to its settings.</summary>
public sealed partial class ExternalProvidersOptions
{
    public const string Section = "TokenServer:ExternalProviders";

    public Dictionary<string, ExternalProvider> Providers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The name as it appears in paths and scheme names (lower case, CONTRACTS.md "Upstream identity providers").</summary>
    public static string Key(string name) => name.ToLowerInvariant();

    public static string SchemeOf(string name) => "TokenServer.Upstream." + Key(name);

    public static string CallbackPath(string name) => $"/signin/{Key(name)}/callback";

    public ExternalProvider? Find(string? name) => name is not null && Providers.TryGetValue(name, out var p) ? p : null;

    public static string DisplayNameOf(string name, ExternalProvider provider) => string.IsNullOrWhiteSpace(provider.DisplayName) ? name : provider.DisplayName;

    [GeneratedRegex("^[A-Za-z0-9-]{1,40}$")]
    internal static partial Regex NamePattern();

    /// <summary>Names taken by sign-in pages of their own under /signin/ (Pages/LinkAccount).</summary>
    internal static readonly string[] Reserved = ["link"];
}

internal sealed class ExternalProvidersOptionsValidator : IValidateOptions<ExternalProvidersOptions>
{
    public ValidateOptionsResult Validate(string? name, ExternalProvidersOptions o)
    {
        var errors = new List<string>();
        foreach (var (providerName, p) in o.Providers)
        {
            var key = $"{ExternalProvidersOptions.Section}:{providerName}";
            if (!ExternalProvidersOptions.NamePattern().IsMatch(providerName) || ExternalProvidersOptions.Reserved.Contains(ExternalProvidersOptions.Key(providerName)))
            {
                errors.Add($"{key}: a provider's name is 1 to 40 letters, digits or dashes (it is part of the redirect URI), and not 'link'.");
            }

            if (!Uri.TryCreate(p.Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(authority.Query) || !string.IsNullOrEmpty(authority.Fragment))
            {
                errors.Add($"{key}:Authority must be the provider's issuer URL (https://..., no query or fragment).");
            }
            else if (authority.Scheme == "http" && p.RequireHttpsMetadata)
            {
                errors.Add($"{key}:Authority must use https (set {key}:RequireHttpsMetadata to false only for a local test provider).");
            }

            if (string.IsNullOrWhiteSpace(p.ClientId))
            {
                errors.Add($"{key}:ClientId is required: TokenServer's client id at that provider.");
            }

            if (string.IsNullOrWhiteSpace(p.ClientSecret))
            {
                errors.Add($"{key}:ClientSecret is required: TokenServer is a confidential client at that provider.");
            }

            var scopes = OidcScopes.Parse(p.Scopes);
            if (!scopes.Contains(OidcScopes.OpenId) || scopes.Any(s => !OidcScopes.IsWellFormed(s)))
            {
                errors.Add($"{key}:Scopes must be scope tokens separated by spaces and include openid.");
            }

            for (var i = 0; i < p.ClaimMappings.Count; i++)
            {
                var m = p.ClaimMappings[i];
                if (string.IsNullOrWhiteSpace(m.Claim) || string.IsNullOrWhiteSpace(m.Value) || string.IsNullOrWhiteSpace(m.Organization) || !MembershipRoles.All.Contains(m.Role))
                {
                    errors.Add($"{key}:ClaimMappings:{i} needs Claim, Value, Organization (a slug) and Role ({string.Join(" or ", MembershipRoles.All)}).");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
