using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>
/// POSTs logout tokens to clients' back-channel logout URIs (OpenID Connect Back-Channel Logout
/// 1.0 §2.5) whenever a session granted to such a client ends, whichever path ended it: RP-initiated
/// logout, the session API, a password change or reset, an administrator's change (Tokens/SessionTokens.cs
/// tells every <see cref="ISessionEndListener"/>). One token per client and browser session (the
/// ID token's <c>sid</c>). Sent in the background, so a slow or dead client cannot hold up the
/// revocation; a failure is logged, not retried.
/// </summary>
public sealed class BackChannelLogout(TokenServerDb db, IHttpClientFactory clients, IdTokenIssuer tokens, ILogger<BackChannelLogout> logger) : ISessionEndListener
{
    public const string HttpClientName = "backchannel-logout";

    public async Task SessionsEndedAsync(IReadOnlyList<EndedSession> sessions, CancellationToken cancellationToken)
    {
        var granted = sessions.Where(s => s.ParentSessionId is not null).ToList();
        if (granted.Count == 0)
        {
            return;
        }

        var clientIds = granted.Select(s => s.ClientId).Distinct().ToList();
        var uris = await db.Set<OidcClient>().AsNoTracking()
            .Where(c => clientIds.Contains(c.ClientId) && c.BackchannelLogoutUri != null)
            .ToDictionaryAsync(c => c.ClientId, c => c.BackchannelLogoutUri!, cancellationToken);
        foreach (var s in granted.Where(s => uris.ContainsKey(s.ClientId)).DistinctBy(s => (s.ClientId, s.ParentSessionId)))
        {
            Send(uris[s.ClientId], s.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture), s.ClientId, s.ParentSessionId!);
        }
    }

    private void Send(string uri, string subject, string clientId, string sessionId)
    {
        var token = tokens.IssueLogoutToken(subject, clientId, sessionId);
        _ = Task.Run(async () =>
        {
            try
            {
                using var http = clients.CreateClient(HttpClientName);
                using var content = new FormUrlEncodedContent([new("logout_token", token)]);
                using var response = await http.PostAsync(new Uri(uri), content);
                if (!response.IsSuccessStatusCode)
                {
                    logger.LogWarning("Back-channel logout to client {ClientId} answered {Status}", clientId, (int)response.StatusCode);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                logger.LogWarning("Back-channel logout to client {ClientId} failed: {Reason}", clientId, ex.Message);
            }
        });
    }
}
