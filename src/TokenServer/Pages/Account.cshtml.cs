using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>The account page: for now who is signed in, and sign-out.</summary>
public sealed class AccountModel : PageModel
{
    public new BrowserUser? User { get; private set; }

    public async Task OnGetAsync() => User = await BrowserSessions.CurrentAsync(HttpContext);
}
