using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenServer.Email;

namespace TokenServer.Pages;

/// <summary>
/// Asks for a password-reset mail. One answer whether or not the address has an account, given
/// before anything is looked up (ARCHITECTURE.md habit 6), as <c>POST /api/v1/auth/password/forgot</c> does.
/// </summary>
public sealed class ForgotPasswordModel(OutgoingMail mails) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    public bool Sent { get; private set; }

    public string? EmailError { get; private set; }

    public void OnGet()
    {
    }

    public IActionResult OnPost()
    {
        if (Email?.Trim() is not { Length: > 0 and <= 320 } email || !email.Contains('@', StringComparison.Ordinal))
        {
            EmailError = "Enter the email address of your account.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        mails.Enqueue(new MailJob.ResetPassword(email));
        Sent = true;
        return Page();
    }
}
