using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>Sign-out confirmed by the user (RP-Initiated Logout 1.0 §2 when no id_token_hint came, and the account page's button).</summary>
public sealed class LogoutModel(Logout logout) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "client_id")]
    public string? ClientId { get; set; }

    [BindProperty(SupportsGet = true, Name = "post_logout_redirect_uri")]
    public string? PostLogoutRedirectUri { get; set; }

    [BindProperty(SupportsGet = true, Name = "state")]
    public string? State { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var target = await logout.TargetAsync(NullIfEmpty(ClientId), NullIfEmpty(PostLogoutRedirectUri), NullIfEmpty(State), cancellationToken);
        if (target is null)
        {
            return Redirect("/error?code=post_logout_redirect_uri");
        }

        await logout.EndAsync(HttpContext, null, cancellationToken);
        return Redirect(target);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
