using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using TokenServer.Federation;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>
/// A provider's button (Pages/Shared/_ExternalProviders, _LinkedIdentities) posts here, with
/// anti-forgery: the OpenID Connect handler sends the browser to the provider, carrying where to
/// go afterwards (the pending authorization request) in its protected <c>state</c>.
/// </summary>
public sealed class ExternalSignInModel(IOptions<ExternalProvidersOptions> options) : PageModel
{
    public IActionResult OnGet() => Redirect("/signin");

    public async Task<IActionResult> OnPostAsync(string provider, [FromForm] string? returnUrl, [FromForm] bool link)
    {
        if (options.Value.Find(provider) is null)
        {
            return NotFound();
        }

        var properties = new AuthenticationProperties
        {
            RedirectUri = $"/signin/{ExternalProvidersOptions.Key(provider)}/complete",
            Items =
            {
                [UpstreamIdentity.ProviderItem] = provider,
                [UpstreamIdentity.ReturnUrlItem] = FederationEndpoints.IsLocal(returnUrl) ? returnUrl : "/account",
            },
        };
        if (link && await BrowserSessions.CurrentAsync(HttpContext) is { } user)
        {
            // Linking to the signed-in account, checked again at the end against the same session.
            properties.Items[UpstreamIdentity.LinkAccountItem] = user.AccountId.ToString(CultureInfo.InvariantCulture);
        }

        return Challenge(properties, ExternalProvidersOptions.SchemeOf(provider));
    }
}
