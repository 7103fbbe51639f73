using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>
/// POSTs logout tokens to clients' back-channel logout URIs (OpenID Connect Back-Channel Logout
/// 1.0 §2.5). Sent in the background, so a slow or dead client cannot hold up the user's sign-out;
/// a failure is logged, not retried.
/// </summary>
public sealed class BackChannelLogout(IHttpClientFactory clients, IdTokenIssuer tokens, ILogger<BackChannelLogout> logger)
{
    public const string HttpClientName = "backchannel-logout";

    public void Send(string uri, string subject, string clientId, string sessionId)
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
