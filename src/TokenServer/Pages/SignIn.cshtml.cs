using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Auth;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>
/// The sign-in page: the same credential check, lockout and per-address rate limit as the API,
/// and one message for every failure (CONTRACTS.md, "Everywhere").
/// </summary>
public sealed class SignInModel(CredentialChecker credentials, BrowserSessions browser) : PageModel
{
    public const string FailureMessage = "The email or password is incorrect, or the account cannot sign in right now.";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Login { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public string? Failure { get; private set; }

    public void OnGet([FromQuery(Name = "login_hint")] string? loginHint) => Login = loginHint;

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await credentials.CheckAsync(Login, Password, BrowserSessions.Dialect, cancellationToken);
        Password = null;
        if (!result.Succeeded)
        {
            Failure = FailureMessage;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await browser.SignInAsync(HttpContext, result.Account!, cancellationToken);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/account");
    }
}
