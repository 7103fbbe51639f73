using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Federation;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>The linked identities on their own page, and the answer to the partial's unlink buttons (same rule as DELETE /api/v1/auth/identities/{provider}).</summary>
public sealed class LinkedIdentitiesModel(FederatedSignIn federation) : PageModel
{
    public async Task<IActionResult> OnGetAsync() =>
        await BrowserSessions.CurrentAsync(HttpContext) is null ? Redirect("/signin?returnUrl=%2Faccount%2Fidentities") : Page();

    public async Task<IActionResult> OnPostUnlinkAsync([FromForm] string? provider, CancellationToken cancellationToken)
    {
        if (await BrowserSessions.CurrentAsync(HttpContext) is not { } user)
        {
            return Redirect("/signin?returnUrl=%2Faccount%2Fidentities");
        }

        var outcome = string.IsNullOrEmpty(provider) ? UnlinkOutcome.NotFound : await federation.UnlinkAsync(user.AccountId, provider, cancellationToken);
        return Redirect(outcome == UnlinkOutcome.LastWayIn ? "/account/identities?identities=last" : "/account/identities");
    }
}
