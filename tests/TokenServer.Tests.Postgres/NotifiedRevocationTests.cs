using System.Diagnostics;
using System.Net;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.MultiInstance;

/// <summary>
/// Revocations reach the other instances through PostgreSQL's LISTEN/NOTIFY
/// (docs/performance.md, "Revocation by notification"): both instances here poll once a
/// minute, so a refusal within seconds can only come from the notification.
/// </summary>
public sealed class NotifiedRevocationTests(TwoInstancesPollingSlowly servers) : IClassFixture<TwoInstancesPollingSlowly>
{
    private static readonly TimeSpan WellWithinThePoll = TimeSpan.FromSeconds(3);

    private HttpClient A => servers.A;

    private HttpClient B => servers.B;

    [Fact]
    public async Task LogoutOnA_IsRefusedByB_LongBeforeItsNextPoll()
    {
        var tokens = await A.RegisterAndLoginAsync("notify-logout@example.org");
        using (var before = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var logout = await A.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnBOnceRefusedAsync(tokens.AccessToken));
    }

    [Fact]
    public async Task EachOfSeveralLogoutsOnA_IsRefusedByB_LongBeforeItsNextPoll()
    {
        // The notification is a wake-up, not the data: each later one must be acted on too.
        for (var i = 0; i < 3; i++)
        {
            var tokens = await A.RegisterAndLoginAsync($"notify-logout-{i}@example.org");
            using (var logout = await A.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, tokens.AccessToken))
            {
                Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
            }

            Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnBOnceRefusedAsync(tokens.AccessToken));
        }
    }

    /// <summary>B's answer to the token, polled until it refuses it or <see cref="WellWithinThePoll"/> has passed.</summary>
    private async Task<HttpStatusCode> StatusOnBOnceRefusedAsync(string accessToken)
    {
        var clock = Stopwatch.StartNew();
        var status = HttpStatusCode.OK;
        while (clock.Elapsed < WellWithinThePoll && status == HttpStatusCode.OK)
        {
            using var me = await B.GetWithTokenAsync("/api/v1/auth/me", accessToken);
            status = me.StatusCode;
            await Task.Delay(10);
        }

        return status;
    }
}
