using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Auth;
using TokenServer.Federation;
using TokenServer.Mfa;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>
/// The sign-in page: the same credential check, lockout and per-address rate limit as the API,
/// and one message for every failure (CONTRACTS.md, "Everywhere"). An account with MFA on is
/// asked for a code next, through the same short-lived, single-use challenge as the API's
/// <c>mfa_required</c> answer (<see cref="MultiFactor"/>).
/// </summary>
public sealed class SignInModel(CredentialChecker credentials, MultiFactor mfa, BrowserSessions browser, FederatedSignIn federation) : PageModel
{
    public const string FailureMessage = "The email or password is incorrect, or the account cannot sign in right now.";
    public const string CodeFailureMessage = "The code is wrong or already used, or this sign-in took too long. Enter the current code, or sign in again.";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Login { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    /// <summary>The second step's challenge (a form field, never in a URL): set once the password was right.</summary>
    [BindProperty]
    public string? MfaToken { get; set; }

    [BindProperty]
    public string? Code { get; set; }

    public string? Failure { get; private set; }

    public void OnGet([FromQuery(Name = "login_hint")] string? loginHint)
    {
        Login = loginHint;
        // An upstream sign-in of an account with MFA on (Federation/FederatedSignIn.cs): ask for its code.
        if (Request.Cookies[FederatedSignIn.SecondFactorCookie] is { Length: > 0 } challenge)
        {
            MfaToken = challenge;
            Response.Cookies.Delete(FederatedSignIn.SecondFactorCookie, new CookieOptions { Path = "/signin" });
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (MfaToken is not null)
        {
            return await AnswerCodeAsync(cancellationToken);
        }

        var result = await credentials.CheckAsync(Login, Password, BrowserSessions.Dialect, cancellationToken);
        Password = null;
        if (result.Failure == CredentialFailure.MfaRequired)
        {
            MfaToken = await mfa.ChallengeAsync(result.Account!.Id, MfaChallengeKinds.Browser, BrowserSessions.ClientId, cancellationToken);
            return Page();
        }

        if (!result.Succeeded)
        {
            Failure = FailureMessage;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await browser.SignInAsync(HttpContext, result.Account!, cancellationToken);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/account");
    }

    private async Task<IActionResult> AnswerCodeAsync(CancellationToken cancellationToken)
    {
        var answered = string.IsNullOrWhiteSpace(Code) ? null : await mfa.AnswerAsync(MfaToken, Code, cancellationToken);
        Code = null;
        if (answered is not { Challenge.Kind: MfaChallengeKinds.Browser or MfaChallengeKinds.BrowserFederated } ok)
        {
            // A wrong code leaves the challenge usable until its attempts run out.
            return CodeRefused();
        }

        if (ok.Challenge.Kind == MfaChallengeKinds.Browser)
        {
            await browser.SignInAsync(HttpContext, ok.Account, cancellationToken, MultiFactor.PasswordAndOtp);
        }
        else if (!await federation.CompleteAfterSecondFactorAsync(HttpContext, ok.Account.Id, cancellationToken))
        {
            // The upstream sign-in it belonged to expired (its cookie lasts minutes) or was another account's.
            return CodeRefused();
        }

        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/account");
    }

    private PageResult CodeRefused()
    {
        Failure = CodeFailureMessage;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }
}
