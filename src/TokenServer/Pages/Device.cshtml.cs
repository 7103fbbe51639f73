using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using TokenServer.Oidc;

namespace TokenServer.Pages;

/// <summary>
/// The device page (RFC 8628 §3.3): a signed-in user enters the code a device shows and allows or
/// denies it. Guessing codes is rate limited per address like every credential route (§5.2).
/// </summary>
public sealed class DeviceModel(DeviceFlow devices) : PageModel
{
    public const string UnknownCode = "That code is not valid, was already used, or has expired. Check the code on your device.";

    [BindProperty(SupportsGet = true, Name = "user_code")]
    public string? UserCode { get; set; }

    public string? ClientName { get; private set; }

    public IReadOnlyList<string> Scopes { get; private set; } = [];

    public string? Failure { get; private set; }

    public string? Outcome { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await BrowserSessions.CurrentAsync(HttpContext) is null)
        {
            return Redirect(QueryHelpers.AddQueryString("/signin", "returnUrl", UserCode is null ? "/device" : QueryHelpers.AddQueryString("/device", "user_code", UserCode)));
        }

        if (string.IsNullOrEmpty(UserCode))
        {
            return Page();
        }

        if (await devices.FindPendingAsync(UserCode, cancellationToken) is not { } found)
        {
            Failure = UnknownCode;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        ClientName = found.Client.Name;
        Scopes = OidcScopes.Parse(found.Request.Scope);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? decision, CancellationToken cancellationToken)
    {
        if (await BrowserSessions.CurrentAsync(HttpContext) is not { } user)
        {
            return Redirect("/signin?returnUrl=%2Fdevice");
        }

        var allow = decision == "allow";
        if (!await devices.DecideAsync(UserCode, user, allow, cancellationToken))
        {
            Failure = UnknownCode;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            UserCode = null;
            return Page();
        }

        Outcome = allow ? "Device connected" : "Request denied";
        return Page();
    }
}
