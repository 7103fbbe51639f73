using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Email;

namespace TokenServer.Pages;

/// <summary>
/// The page a verification or email-change mail links to (<see cref="AccountMails.VerifyPath"/>).
/// Opening the link only shows a button: mail scanners fetch links, so only the person's POST confirms.
/// </summary>
public sealed class VerifyEmailModel(AccountLinks links) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public LinkOutcome? Outcome { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Outcome = (await links.VerifyEmailAsync(Token, cancellationToken)).Outcome;
        if (Outcome != LinkOutcome.Done)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }
}
