using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Oidc;

/// <summary>
/// Cross-origin access for browser apps (public clients, docs/oidc.md "Browser app"): the token,
/// revocation and userinfo endpoints, discovery and the JWKS answer a page whose origin is that of
/// a public client's registered redirect URI (OAuth 2.0 for Browser-Based Applications §6.3.2: the
/// authorization server supports CORS for them). No cookies cross: credentials are not allowed, so
/// the browser session cannot be used from another origin.
/// </summary>
public sealed class BrowserAppCors : ICorsPolicyProvider
{
    public const string Policy = "registered-browser-apps";

    public async Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (policyName != Policy || origin.Length == 0 || !Uri.TryCreate(origin, UriKind.Absolute, out _))
        {
            return null;
        }

        var db = context.RequestServices.GetRequiredService<TokenServerDb>();
        var redirects = await db.Set<OidcClient>().AsNoTracking()
            .Where(c => c.Type == OidcClientTypes.Public)
            .Select(c => c.RedirectUris)
            .ToListAsync(context.RequestAborted);
        var registered = redirects.SelectMany(r => r)
            .Any(r => Uri.TryCreate(r, UriKind.Absolute, out var uri) && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase));
        return registered
            ? new CorsPolicyBuilder().WithOrigins(origin).WithMethods(HttpMethods.Get, HttpMethods.Post).WithHeaders("Authorization", "Content-Type").Build()
            : null;
    }
}
