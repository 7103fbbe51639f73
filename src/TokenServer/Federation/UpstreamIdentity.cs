using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace TokenServer.Federation;

/// <summary>
/// Who the upstream provider says signed in, read from its validated ID token and held in the
/// short-lived external cookie (<see cref="FederationSetup.ExternalScheme"/>) until TokenServer
/// has decided which account it is.
/// </summary>
public sealed record UpstreamIdentity(
    string Provider,
    string Issuer,
    string Subject,
    string? Email,
    bool EmailVerified,
    string? Name,
    IReadOnlyList<string> Amr,
    string? Acr,
    IReadOnlyList<Claim> Claims,
    string ReturnUrl,
    long? LinkAccountId)
{
    /// <summary>AuthenticationProperties items carried from the sign-in button to the end of the flow.</summary>
    public const string ProviderItem = "provider";
    public const string ReturnUrlItem = "returnUrl";
    public const string LinkAccountItem = "link_account";

    /// <summary>The longest upstream <c>acr</c> passed on (the length of the store's <c>acr</c> columns, Oidc/OidcEntities.cs); a longer one is dropped, not cut to another name.</summary>
    public const int MaxAcrLength = 200;

    public static UpstreamIdentity? From(AuthenticateResult result)
    {
        if (!result.Succeeded
            || result.Properties?.Items.TryGetValue(ProviderItem, out var provider) != true || provider is null
            || result.Principal.FindFirstValue("sub") is not { Length: > 0 } subject
            || result.Principal.FindFirstValue("iss") is not { Length: > 0 } issuer)
        {
            return null;
        }

        var principal = result.Principal;
        return new UpstreamIdentity(
            provider,
            issuer,
            subject,
            principal.FindFirstValue("email") is { Length: > 0 } email ? email.Trim() : null,
            bool.TryParse(principal.FindFirstValue("email_verified"), out var verified) && verified,
            principal.FindFirstValue("name"),
            [.. principal.FindAll("amr").Select(c => c.Value)],
            principal.FindFirstValue("acr") is { Length: > 0 and <= MaxAcrLength } acr ? acr : null,
            [.. principal.Claims],
            result.Properties.Items.TryGetValue(ReturnUrlItem, out var url) && url is not null ? url : "/account",
            result.Properties.Items.TryGetValue(LinkAccountItem, out var link) && long.TryParse(link, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null);
    }

    /// <summary>
    /// The RFC 8176 <c>amr</c> of a sign-in through this provider: <c>fed</c>, then the values the
    /// provider reported that RFC 8176 §2 defines. A provider's private values (RFC 8176 §1: their
    /// meaning is its own) are not passed on to TokenServer's relying parties, which could not know it.
    /// </summary>
    public IReadOnlyList<string> SignInMethods => ["fed", .. Amr.Where(a => a != "fed" && RegisteredMethods.Contains(a)).Distinct(StringComparer.Ordinal)];

    /// <summary>The authentication method reference values of RFC 8176 §2.</summary>
    private static readonly HashSet<string> RegisteredMethods = new(
        ["face", "fed", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"],
        StringComparer.Ordinal);
}
