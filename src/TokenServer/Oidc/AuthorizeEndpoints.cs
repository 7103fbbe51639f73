using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>The authorization endpoint (RFC 6749 §3.1, OpenID Connect Core 1.0 §3.1.2): GET and POST.</summary>
public static class AuthorizeEndpoints
{
    public const string AuthorizePath = "/connect/authorize";

    public static IEndpointRouteBuilder MapAuthorize(this IEndpointRouteBuilder app)
    {
        app.MapMethods(AuthorizePath, [HttpMethods.Get, HttpMethods.Post], Authorize).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    /// <summary>The error page for an error that must not go to the client (RFC 6749 §4.1.2.1).</summary>
    public static RedirectHttpResult ErrorPage(string code) => TypedResults.Redirect(QueryHelpers.AddQueryString("/error", "code", code));

    private static async Task<RedirectHttpResult> Authorize(
        HttpContext context, AuthorizationRequests requests, TokenServerDb db, IOptions<OidcOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        IEnumerable<KeyValuePair<string, StringValues>> raw = HttpMethods.IsPost(context.Request.Method)
            ? context.Request.HasFormContentType ? await context.Request.ReadFormAsync(cancellationToken) : []
            : context.Request.Query;
        var (request, error) = await requests.ParseAsync(raw, cancellationToken);
        if (error is not null)
        {
            return error.Redirects ? TypedResults.Redirect(requests.RedirectWith(error)) : ErrorPage(error.Description);
        }

        var r = request!;
        var now = time.GetUtcNow();
        var user = await BrowserSessions.CurrentAsync(context);
        if (user is null || r.Prompt.Contains("login") || (r.MaxAge is { } maxAge && now - user.AuthTime > TimeSpan.FromSeconds(maxAge)))
        {
            if (r.Prompt.Contains("none"))
            {
                return TypedResults.Redirect(requests.RedirectWith(new AuthorizationError(OidcErrors.LoginRequired, "The user is not signed in; send the request without prompt=none.", r.RedirectUri, r.State)));
            }

            var signIn = new Dictionary<string, string?> { ["returnUrl"] = r.ReturnUrl("login") };
            if (r.LoginHint is not null)
            {
                signIn["login_hint"] = r.LoginHint;
            }

            return TypedResults.Redirect(QueryHelpers.AddQueryString("/signin", signIn));
        }

        if (!r.Client.FirstParty)
        {
            var consent = await db.Set<OidcConsent>().AsNoTracking().FirstOrDefaultAsync(c => c.AccountId == user.AccountId && c.ClientId == r.Client.ClientId, cancellationToken);
            if (r.Prompt.Contains("consent") || consent is null || r.Scopes.Any(s => !consent.Scopes.Contains(s)))
            {
                if (r.Prompt.Contains("none"))
                {
                    return TypedResults.Redirect(requests.RedirectWith(new AuthorizationError(OidcErrors.ConsentRequired, "The user has not consented to this client; send the request without prompt=none.", r.RedirectUri, r.State)));
                }

                return TypedResults.Redirect(QueryHelpers.AddQueryString("/consent", "returnUrl", r.ReturnUrl("consent")));
            }
        }

        var code = OpaqueTokens.Generate();
        db.Set<AuthorizationCode>().Add(new AuthorizationCode
        {
            CodeHash = OpaqueTokens.Hash(code),
            ClientId = r.Client.ClientId,
            AccountId = user.AccountId,
            BrowserSessionId = user.SessionId,
            RedirectUri = r.RedirectUri,
            Scope = r.Scope,
            Nonce = r.Nonce,
            CodeChallenge = r.CodeChallenge,
            AuthTime = user.AuthTime,
            AuthenticationMethods = string.Join(' ', user.Amr),
            Acr = user.Acr,
            CreatedAt = now,
            ExpiresAt = now + options.Value.CodeLifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Redirect(requests.RedirectWith(r.RedirectUri, r.State, ("code", code)));
    }
}
