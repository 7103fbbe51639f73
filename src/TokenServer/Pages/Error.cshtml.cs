using Microsoft.AspNetCore.Mvc.RazorPages;

namespace TokenServer.Pages;

/// <summary>
/// Errors that must not be sent to a client (an unknown client or redirect URI: RFC 6749
/// §4.1.2.1). The message comes from a fixed list by code, so a link cannot make this page say
/// anything else.
/// </summary>
public sealed class ErrorModel : PageModel
{
    public string Message { get; private set; } = string.Empty;

    public void OnGet(string? code)
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        Message = code switch
        {
            "unknown_client" => "The application that sent you here is not registered with this server (unknown client_id).",
            "redirect_uri" => "The application asked to send you back to an address it has not registered (redirect_uri missing or not an exact match).",
            "id_token_hint" => "The sign-out request carried an ID token that this server did not issue, or one for another application.",
            "post_logout_redirect_uri" => "The application asked to send you to an address after sign-out that it has not registered.",
            _ => "The request from the application was not valid.",
        };
    }
}
