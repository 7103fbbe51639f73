using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Federation;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>
/// An upstream sign-in whose email belongs to an existing, unlinked account: that account's
/// password (the same check, lockout and rate limit as the sign-in page) links the two
/// (docs/decisions.md "Upstream identity providers").
/// </summary>
public sealed class LinkAccountModel(CredentialChecker credentials, FederatedSignIn federation, IOptions<ExternalProvidersOptions> options) : PageModel
{
    /// <summary>The page already names the account, so the message names the password alone (and, as sign-in does, a lockout).</summary>
    public const string FailureMessage = "That is not this account's password, or the account cannot sign in right now. Nothing was linked.";

    [BindProperty]
    public string? Password { get; set; }

    public string ProviderName { get; private set; } = string.Empty;

    public string? Email { get; private set; }

    public bool EmailVerified { get; private set; }

    public string? Failure { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() is null ? Redirect("/signin") : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var upstream = await LoadAsync();
        if (upstream?.Email is null)
        {
            return Redirect("/signin");
        }

        var result = await credentials.CheckAsync(upstream.Email, Password, BrowserSessions.Dialect, cancellationToken);
        Password = null;
        if (!result.Succeeded || await federation.LinkAndSignInAsync(HttpContext, result.Account!, upstream, cancellationToken) != FederationOutcome.SignedIn)
        {
            Failure = FailureMessage;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        return LocalRedirect(FederationEndpoints.IsLocal(upstream.ReturnUrl) ? upstream.ReturnUrl : "/account");
    }

    private async Task<UpstreamIdentity?> LoadAsync()
    {
        var upstream = UpstreamIdentity.From(await HttpContext.AuthenticateAsync(FederationSetup.ExternalScheme));
        if (upstream is not null)
        {
            ProviderName = FederationEndpoints.DisplayName(options.Value, upstream.Provider);
            Email = upstream.Email;
            EmailVerified = upstream.EmailVerified;
        }

        return upstream;
    }
}
