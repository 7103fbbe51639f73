using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Store;

/// <summary>
/// A refresh is answered only after its rotation is committed (docs/performance.md, "Group
/// commit"): a server killed with SIGKILL the moment a 200 arrives keeps that rotation.
/// </summary>
public sealed class DurableRefreshTests
{
    private const int Chains = 8;

    [Fact]
    public async Task ServerKilledRightAfterARefreshAnswers_KeepsThatRotation_AfterRestart()
    {
        using var store = TestStore.Create();
        var answered = new List<(string Old, string New)>();
        await using (var server = await ServerProcess.StartAsync(store))
        {
            var sessions = new List<Infrastructure.Tokens>();
            for (var i = 0; i < Chains; i++)
            {
                sessions.Add(await server.Client.LoginAdminAsync());
            }

            // Refreshes arriving together, so they share commits; the server dies as soon as
            // the first answer is read. Those still in flight then may or may not have committed.
            var pending = sessions.Select(s => RefreshAsync(server.Client, s.RefreshToken)).ToList();
            var first = await Task.WhenAny(pending);
            server.Kill();
            foreach (var refresh in pending)
            {
                if (refresh.IsCompletedSuccessfully && refresh.Result.Status == HttpStatusCode.OK)
                {
                    answered.Add((refresh.Result.Presented, refresh.Result.Rotated!));
                }
            }

            Assert.True(first.IsCompletedSuccessfully, server.Output);
            Assert.NotEmpty(answered);
        }

        await using var restarted = await ServerProcess.StartAsync(store);

        // Each answered rotation was kept: the refresh token it handed out works.
        var newest = new List<string>();
        foreach (var (_, rotated) in answered)
        {
            var next = await RefreshAsync(restarted.Client, rotated);
            Assert.Equal(HttpStatusCode.OK, next.Status);
            newest.Add(next.Rotated!);
        }

        // And the token it consumed stays consumed: presenting it again is reuse, which ends
        // the session, so the chain's newest token dies with it (RFC 9700 §4.14.2).
        var reuse = await RefreshAsync(restarted.Client, answered[0].Old);
        Assert.Equal(HttpStatusCode.Unauthorized, reuse.Status);
        var afterReuse = await RefreshAsync(restarted.Client, newest[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReuse.Status);
    }

    private static async Task<(HttpStatusCode Status, string Presented, string? Rotated)> RefreshAsync(HttpClient client, string refreshToken)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = refreshToken });
        var rotated = response.StatusCode == HttpStatusCode.OK ? (await response.ReadJsonAsync()).GetProperty("refresh_token").GetString() : null;
        return (response.StatusCode, refreshToken, rotated);
    }
}
