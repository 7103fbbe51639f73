using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// A second instance on the same store whose clock runs behind the signing keys' activation
/// (docs/decisions.md, "Clock skew"): within <c>TokenServer:ClockSkew</c> it signs with the key
/// the others sign with; beyond it, it answers 503 at once with the reason and Retry-After,
/// and its health says degraded with the measured lag.
/// </summary>
public sealed class ClockSkewTests : IDisposable
{
    private readonly TokenServerFactory normal = new();
    private HttpClient normalClient = null!;

    public void Dispose()
    {
        normalClient?.Dispose();
        normal.Dispose();
    }

    /// <summary>A second server on the normal one's store, its clock <paramref name="behind"/> the normal one's.</summary>
    private async Task<TokenServerFactory> LaggingInstanceAsync(TimeSpan behind)
    {
        // A fake clock only moves forward: the normal one is put ahead before its server starts.
        var lagging = new TokenServerFactory();
        lagging.Settings["ConnectionStrings:TokenServer"] = normal.Store.ConnectionString;
        normal.Time.Advance(lagging.Time.GetUtcNow() - normal.Time.GetUtcNow() + behind);

        // The normal instance starts and creates the first signing key, active from its now.
        normalClient = normal.CreateClient();
        await normalClient.LoginAdminAsync();
        return lagging;
    }

    [Fact]
    public async Task ClockHoursBehindTheKeys_LoginsAnswer503AtOnceWithReason_AndHealthIsDegraded()
    {
        using var lagging = await LaggingInstanceAsync(TimeSpan.FromHours(2));
        using var client = lagging.CreateClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using (var native = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = TokenServerFactory.AdminEmail, password = TokenServerFactory.AdminPassword }, timeout.Token))
        {
            JsonAssert.IsProblem(native, HttpStatusCode.ServiceUnavailable);
            Assert.True(native.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Contains("clock", (await native.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var oauth = await client.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = TokenServerFactory.AdminEmail,
            ["password"] = TokenServerFactory.AdminPassword,
        }), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, oauth.StatusCode);
            Assert.NotNull(oauth.Headers.RetryAfter);
            var error = await oauth.ReadJsonAsync();
            Assert.Equal("temporarily_unavailable", error.GetProperty("error").GetString());
            Assert.Contains("clock", error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        }

        using var health = await client.GetAsync("/api/v1/health", timeout.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var report = await health.ReadJsonAsync();
        JsonAssert.HasExactly(report, "status", "clock_behind_seconds");
        Assert.Equal("degraded", report.GetProperty("status").GetString());
        Assert.InRange(report.GetProperty("clock_behind_seconds").GetDouble(), 7190, 7300);

        using var normalHealth = await normalClient.GetAsync("/api/v1/health", timeout.Token);
        Assert.Equal("{\"status\":\"healthy\"}", await normalHealth.Content.ReadAsStringAsync(timeout.Token));
    }

    [Fact]
    public async Task ClockBehindWithinClockSkew_SignsWithThePublishedKey_AndTheOthersAcceptIt()
    {
        using var lagging = await LaggingInstanceAsync(TimeSpan.FromSeconds(3));
        using var client = lagging.CreateClient();

        var tokens = await client.LoginAdminAsync();

        using var me = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me").WithBearer(tokens.AccessToken);
        using var accepted = await normalClient.SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        using var health = await client.GetAsync("/api/v1/health");
        Assert.Equal("{\"status\":\"healthy\"}", await health.Content.ReadAsStringAsync());
    }
}
