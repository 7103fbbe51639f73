using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Oidc;

/// <summary>/userinfo (OpenID Connect Core 1.0 §5.3) and the end-session endpoint (RP-Initiated Logout 1.0 §2).</summary>
public static class OidcSessionEndpoints
{
    public const string UserInfoPath = "/connect/userinfo";
    public const string EndSessionPath = "/connect/logout";

    public static IEndpointRouteBuilder MapOidcSessions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/connect").WithTags("OpenID Connect").WithMetadata(OAuthAuthFailureWriter.Instance);
        group.MapMethods("/userinfo", [HttpMethods.Get, HttpMethods.Post], UserInfo).RequireAuthorization().DisableAntiforgery().WithNoStore().RequireCors(BrowserAppCors.Policy)
            .WithSummary("Claims about the signed-in user, by the scopes of the access token (OpenID Connect Core 1.0 §5.3)");
        group.MapMethods("/logout", [HttpMethods.Get, HttpMethods.Post], EndSession).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Ok<Dictionary<string, object>>, JsonHttpResult<OAuthErrorResponse>>> UserInfo(
        ClaimsPrincipal user, Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        var scopes = OidcScopes.Parse(user.FindFirstValue(TokenClaims.Scope));
        if (!scopes.Contains(OidcScopes.OpenId))
        {
            return OAuthEndpoints.Error("insufficient_scope", "This access token was not granted the openid scope; sign in with scope=openid to use /userinfo.", StatusCodes.Status403Forbidden);
        }

        var id = caller.AccountId;
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return OAuthEndpoints.Error("invalid_token", "The account of this token no longer exists.", StatusCodes.Status401Unauthorized);
        }

        var claims = UserClaims.For(account, scopes);
        claims[JwtRegisteredClaimNames.Sub] = SessionTokens.SubjectOf(account).Subject;
        return TypedResults.Ok(claims);
    }

    /// <summary>
    /// RP-Initiated Logout 1.0 §2-3. With a valid <c>id_token_hint</c> the sign-out happens at once;
    /// without one the user confirms it on the sign-out page (§6: a logout request can be forged).
    /// A <c>post_logout_redirect_uri</c> must be registered for the hint's (or client_id's) client.
    /// </summary>
    private static async Task<RedirectHttpResult> EndSession(
        HttpContext context, IdTokenIssuer idTokens, Logout logout, CancellationToken cancellationToken)
    {
        var parameters = HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType
            ? (await context.Request.ReadFormAsync(cancellationToken)).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal)
            : context.Request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        string? Get(string name) => parameters.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

        var hint = Get("id_token_hint") is { } hintText ? await idTokens.ReadHintAsync(hintText) : null;
        if (Get("id_token_hint") is not null && hint is null)
        {
            return AuthorizeEndpoints.ErrorPage("id_token_hint");
        }

        var clientId = hint?.Audiences.FirstOrDefault() ?? Get("client_id");
        if (Get("client_id") is { } named && clientId != named)
        {
            return AuthorizeEndpoints.ErrorPage("id_token_hint");
        }

        if (await logout.TargetAsync(clientId, Get("post_logout_redirect_uri"), Get("state"), cancellationToken) is not { } target)
        {
            return AuthorizeEndpoints.ErrorPage("post_logout_redirect_uri");
        }

        if (hint is null)
        {
            var confirm = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var name in new[] { "client_id", "post_logout_redirect_uri", "state" })
            {
                if (Get(name) is { } value)
                {
                    confirm[name] = value;
                }
            }

            return TypedResults.Redirect(QueryHelpers.AddQueryString("/logout", confirm));
        }

        hint.TryGetPayloadValue<string>(TokenClaims.SessionId, out var sid);
        await logout.EndAsync(context, sid, cancellationToken);
        return TypedResults.Redirect(target);
    }
}
