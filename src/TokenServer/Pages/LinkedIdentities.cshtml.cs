using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Federation;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>The linked identities on their own page, and the answer to the partial's unlink buttons (same rule as DELETE /api/v1/auth/identities/{provider}).</summary>
public sealed class LinkedIdentitiesModel(FederatedSignIn federation) : PageModel
{
    /// <summary>The <c>identities</c> query values that make the section say what its last form did.</summary>
    public const string LastWayIn = "last";
    public const string Unlinked = "unlinked";

    /// <summary>Where the section's forms send the browser back: the account page, or else this page (never an address from the form).</summary>
    public static string ReturnPage(string? path) => path?.Split('#')[0] == "/account" ? "/account" : "/account/identities";

    public async Task<IActionResult> OnGetAsync() =>
        await BrowserSessions.CurrentAsync(HttpContext) is null ? Redirect("/signin?returnUrl=%2Faccount%2Fidentities") : Page();

    public async Task<IActionResult> OnPostUnlinkAsync([FromForm] string? provider, [FromForm] string? returnUrl, CancellationToken cancellationToken)
    {
        if (await BrowserSessions.CurrentAsync(HttpContext) is not { } user)
        {
            return Redirect("/signin?returnUrl=%2Faccount%2Fidentities");
        }

        var outcome = string.IsNullOrEmpty(provider) ? UnlinkOutcome.NotFound : await federation.UnlinkAsync(user.AccountId, provider, cancellationToken);
        var said = outcome switch
        {
            UnlinkOutcome.LastWayIn => "?identities=" + LastWayIn,
            UnlinkOutcome.Unlinked => "?identities=" + Unlinked,
            _ => string.Empty,
        };
        return Redirect(ReturnPage(returnUrl) + said + "#identities");
    }
}
