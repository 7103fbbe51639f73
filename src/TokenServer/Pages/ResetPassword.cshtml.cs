using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Email;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>The page a password-reset mail links to (<see cref="AccountMails.ResetPath"/>): a new password, through the same service as the API route.</summary>
public sealed class ResetPasswordModel(AccountLinks links) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public string? NewPassword { get; set; }

    public string? Failure { get; private set; }

    public string? PasswordError { get; private set; }

    public bool Done { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await links.ResetPasswordAsync(Token, NewPassword, BrowserSessions.Dialect, cancellationToken);
        NewPassword = null;
        switch (result.Outcome)
        {
            case LinkOutcome.Done:
                Done = true;
                return Page();
            case LinkOutcome.WeakPassword:
                PasswordError = result.Message;
                break;
            default:
                Failure = "This link is unknown, expired or already used. Ask for a new one.";
                break;
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
