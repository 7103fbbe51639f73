using Microsoft.Extensions.Primitives;
using TokenServer.Hosting;

namespace TokenServer.Tokens;

/// <summary>The token a request carries, found in any header scheme of CONTRACTS.md "Everywhere".</summary>
public sealed record PresentedToken(string? Token, string? UserHeader, bool Ambiguous)
{
    public const string TsAuthTokenHeader = "ts-auth-token";
    public const string AuthTokenHeader = "Auth-Token";
    public const string UserHeaderName = "User";

    private static readonly object ItemKey = new();
    private static readonly PresentedToken None = new(null, null, false);

    /// <summary>
    /// Accepts <c>Authorization: Bearer|Token|JWT &lt;t&gt;</c>, <c>ts-auth-token: &lt;t&gt;</c> and
    /// <c>Auth-Token: &lt;t&gt;</c> (with <c>User</c>, checked against the token later). The same
    /// token in several headers is fine; two different ones make the request ambiguous.
    /// Authorization: Basic is a login credential, not a token, and is left to the login routes.
    /// </summary>
    public static PresentedToken From(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is PresentedToken known)
        {
            return known;
        }

        var headers = context.Request.Headers;
        string? token = null;
        var ambiguous = false;

        foreach (var value in headers.Authorization)
        {
            if (value is null)
            {
                continue;
            }

            var space = value.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0)
            {
                continue;
            }

            var scheme = value.AsSpan(0, space);
            if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)
                || scheme.Equals("Token", StringComparison.OrdinalIgnoreCase)
                || scheme.Equals("JWT", StringComparison.OrdinalIgnoreCase))
            {
                Take(value[(space + 1)..].Trim(), ref token, ref ambiguous);
            }
        }

        Take(headers[TsAuthTokenHeader], ref token, ref ambiguous);
        var authToken = headers[AuthTokenHeader];
        Take(authToken, ref token, ref ambiguous);

        var result = token is null && !ambiguous
            ? None
            : new PresentedToken(token, StringValues.IsNullOrEmpty(authToken) ? null : headers[UserHeaderName].ToString() is { Length: > 0 } user ? user : null, ambiguous);
        context.Items[ItemKey] = result;
        return result;
    }

    /// <summary>CONTRACTS.md "Everywhere": with the User + Auth-Token pair, the user must be the token's subject.</summary>
    public bool UserHeaderNames(string? preferredUsername, string? email) =>
        UserHeader is null
        || string.Equals(UserHeader, preferredUsername, StringComparison.OrdinalIgnoreCase)
        || string.Equals(UserHeader, email, StringComparison.OrdinalIgnoreCase);

    private static void Take(StringValues values, ref string? token, ref bool ambiguous)
    {
        foreach (var raw in values)
        {
            var candidate = raw?.Trim();
            if (string.IsNullOrEmpty(candidate))
            {
                continue;
            }

            if (token is null)
            {
                token = candidate;
            }
            else if (!string.Equals(token, candidate, StringComparison.Ordinal))
            {
                ambiguous = true;
            }
        }
    }
}

/// <summary>Refuses a request that carries two different tokens before anything reads either (400).</summary>
internal sealed class AmbiguousTokenMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        PresentedToken.From(context).Ambiguous
            ? AuthFailures.WriteAsync(context, AuthFailureKind.AmbiguousToken)
            : next(context);
}
