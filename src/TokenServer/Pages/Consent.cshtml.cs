using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using TokenServer.Oidc;
using TokenServer.Store;

namespace TokenServer.Pages;

/// <summary>Consent for a third-party client (OpenID Connect Core 1.0 §3.1.2.4), remembered per account and client.</summary>
public sealed class ConsentModel(AuthorizationRequests requests, TokenServerDb db, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string ClientName { get; private set; } = string.Empty;

    public IReadOnlyList<string> Scopes { get; private set; } = [];

    public static string Describe(string scope) => scope switch
    {
        OidcScopes.OpenId => "Know who you are (your account id)",
        OidcScopes.Profile => "See your name and username",
        OidcScopes.Email => "See your email address",
        OidcScopes.OfflineAccess => "Stay signed in when you are away",
        _ => $"Use the '{scope}' permission on your behalf",
    };

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var (request, user, result) = await LoadAsync(cancellationToken);
        if (result is not null)
        {
            return result;
        }

        ClientName = request!.Client.Name;
        Scopes = request.Scopes;
        _ = user;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? decision, CancellationToken cancellationToken)
    {
        var (request, user, result) = await LoadAsync(cancellationToken);
        if (result is not null)
        {
            return result;
        }

        if (decision != "allow")
        {
            return Redirect(requests.RedirectWith(new AuthorizationError(OidcErrors.AccessDenied, "The user denied access.", request!.RedirectUri, request.State)));
        }

        var consents = db.Set<OidcConsent>();
        var existing = await consents.FirstOrDefaultAsync(c => c.AccountId == user!.AccountId && c.ClientId == request!.Client.ClientId, cancellationToken);
        if (existing is null)
        {
            consents.Add(new OidcConsent { AccountId = user!.AccountId, ClientId = request!.Client.ClientId, Scopes = [.. request.Scopes], GrantedAt = time.GetUtcNow() });
        }
        else
        {
            existing.Scopes = existing.Scopes.Union(request!.Scopes).ToList();
            existing.GrantedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(cancellationToken);
        return LocalRedirect(ReturnUrl!);
    }

    /// <summary>The authorization request the consent is for: only a local authorize URL, re-validated in full.</summary>
    private async Task<(AuthorizationRequest?, BrowserUser?, IActionResult?)> LoadAsync(CancellationToken cancellationToken)
    {
        var prefix = AuthorizeEndpoints.AuthorizePath + "?";
        if (ReturnUrl is null || !ReturnUrl.StartsWith(prefix, StringComparison.Ordinal))
        {
            return (null, null, Redirect(QueryHelpers.AddQueryString("/error", "code", "invalid_request")));
        }

        var user = await BrowserSessions.CurrentAsync(HttpContext);
        if (user is null)
        {
            return (null, null, Redirect(QueryHelpers.AddQueryString("/signin", "returnUrl", ReturnUrl)));
        }

        var (request, error) = await requests.ParseAsync(QueryHelpers.ParseQuery(ReturnUrl[(prefix.Length - 1)..]), cancellationToken);
        if (error is not null)
        {
            return (null, null, error.Redirects ? Redirect(requests.RedirectWith(error)) : Redirect(QueryHelpers.AddQueryString("/error", "code", error.Description)));
        }

        return (request, user, null);
    }
}
