using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>
/// Ends a browser session everywhere: the session row and every session granted from it are
/// revoked (their tokens fail on every instance within the revocation poll interval), the cookie
/// is cleared, and clients with a back-channel logout URI are told (<see cref="BackChannelLogout"/>).
/// </summary>
public sealed class Logout(
    TokenServerDb db,
    SessionTokens sessions,
    ClientRegistry registry)
{
    /// <summary>Where to send the browser afterwards: a post-logout URI registered for the client, or the signed-out page. Null: not allowed.</summary>
    public async Task<string?> TargetAsync(string? clientId, string? postLogoutRedirectUri, string? state, CancellationToken cancellationToken)
    {
        if (postLogoutRedirectUri is null)
        {
            return "/signed-out";
        }

        var client = await registry.FindAsync(clientId, cancellationToken);
        if (client is null || !client.PostLogoutRedirectUris.Contains(postLogoutRedirectUri, StringComparer.Ordinal))
        {
            return null;
        }

        return state is null ? postLogoutRedirectUri : QueryHelpers.AddQueryString(postLogoutRedirectUri, "state", state);
    }

    /// <summary>Ends the session <paramref name="sessionId"/> (from an id_token_hint) or, when null, this browser's.</summary>
    public async Task EndAsync(HttpContext context, string? sessionId, CancellationToken cancellationToken)
    {
        var current = await BrowserSessions.CurrentAsync(context);
        sessionId ??= current?.SessionId;
        if (current is not null && current.SessionId == sessionId)
        {
            await context.SignOutAsync(BrowserSessions.Scheme);
        }

        if (sessionId is null)
        {
            return;
        }

        var browserSession = await db.Sessions.AsNoTracking().AnyAsync(s => s.Id == sessionId && s.Dialect == BrowserSessions.Dialect, cancellationToken);
        if (browserSession)
        {
            await sessions.RevokeSessionAsync(sessionId, RevocationReasons.Logout, cancellationToken);
        }
    }
}
