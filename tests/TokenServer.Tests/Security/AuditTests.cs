using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md: the events are recorded, and GET /api/v1/admin/audit filters and pages them.</summary>
public sealed class AuditTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public AuditTests()
    {
        factory.Settings["TokenServer:Lockout:Threshold"] = "2";
        factory.Settings["TokenServer:RevocationPollInterval"] = "00:10:00";
        client = factory.CreateClient();
    }

    public void Dispose() => factory.Dispose();

    private async Task<JsonElement> GetAudit(string admin, string query)
    {
        using var response = await client.GetWithTokenAsync("/api/v1/admin/audit" + query, admin);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task AccountLifecycle_IsRecorded_WithReasonsAndWithoutSecrets()
    {
        var account = await client.RegisterAsync("audited@example.org");
        var id = account.GetProperty("id").GetInt64();
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "audited@example.org", password = "wrong-password-1" })).Dispose();
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "audited@example.org", password = "wrong-password-2" })).Dispose();
        factory.Time.Advance(TimeSpan.FromHours(2));
        var tokens = await client.LoginAsync("audited@example.org");
        using var refreshed = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        var newAccess = (await refreshed.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken })).Dispose();
        var again = await client.LoginAsync("audited@example.org");
        (await client.PostJsonWithTokenAsync("/api/v1/auth/password", new { current_password = Api.Password, new_password = "another-password-1" }, again.AccessToken)).Dispose();
        (await client.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, again.AccessToken)).Dispose();

        var admin = (await client.LoginAdminAsync()).AccessToken;
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}") { Content = JsonContent.Create(new { role = "curator" }) }.WithBearer(admin);
        (await client.SendAsync(patch)).Dispose();
        (await client.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, admin)).Dispose();
        _ = newAccess;

        var page = await GetAudit(admin, $"?account_id={id}&page_size=100");
        JsonAssert.HasExactly(page, "count", "next", "previous", "results");
        var events = page.GetProperty("results").EnumerateArray().ToList();
        JsonAssert.HasExactly(events[0], "id", "at", "type", "account_id", "actor_id", "dialect", "client_address", "detail");
        var types = events.Select(e => e.GetProperty("type").GetString()).ToHashSet();
        foreach (var expected in new[]
        {
            "account.registered", "login.failed", "account.locked_out", "login.succeeded", "token.refreshed",
            "token.refresh_reuse_detected", "account.password_changed", "session.logout", "account.updated",
        })
        {
            Assert.Contains(expected, types);
        }

        Assert.All(events, e => Assert.Equal(id, e.GetProperty("account_id").GetInt64()));
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "login.failed" && e.GetProperty("detail").GetString() == "wrong password");
        var text = page.GetRawText();
        Assert.DoesNotContain("wrong-password-1", text, StringComparison.Ordinal);
        Assert.DoesNotContain(tokens.RefreshToken, text, StringComparison.Ordinal);

        var rotations = await GetAudit(admin, "?type=key.rotated");
        Assert.Equal(1, rotations.GetProperty("count").GetInt32());
        Assert.Equal("key.rotated", rotations.GetProperty("results")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Audit_FiltersByTime_AndPagesNewestFirst()
    {
        var admin = (await client.LoginAdminAsync()).AccessToken;
        var start = factory.Time.GetUtcNow();
        for (var i = 0; i < 5; i++)
        {
            factory.Time.Advance(TimeSpan.FromMinutes(1));
            (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = $"ghost{i}@example.org", password = "x-password" })).Dispose();
        }

        var from = Uri.EscapeDataString(start.AddSeconds(90).ToString("O"));
        var to = Uri.EscapeDataString(start.AddSeconds(270).ToString("O"));
        var window = await GetAudit(admin, $"?type=login.failed&from={from}&to={to}");
        Assert.Equal(3, window.GetProperty("count").GetInt32());

        var first = await GetAudit(admin, "?type=login.failed&page_size=2");
        Assert.Equal(5, first.GetProperty("count").GetInt32());
        Assert.Equal(2, first.GetProperty("results").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("previous").ValueKind);
        var times = first.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.True(times[0] > times[1]);
        var next = first.GetProperty("next").GetString()!;
        Assert.Contains("page=2", next, StringComparison.Ordinal);
        Assert.Contains("page_size=2", next, StringComparison.Ordinal);

        var last = await GetAudit(admin, "?type=login.failed&page_size=2&page=3");
        Assert.Equal(1, last.GetProperty("results").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task Audit_IsAdminOnly_AndRejectsBadParameters()
    {
        var user = await client.RegisterAndLoginAsync("curious@example.org");
        using var forbidden = await client.GetWithTokenAsync("/api/v1/admin/audit", user.AccessToken);
        JsonAssert.IsProblem(forbidden, HttpStatusCode.Forbidden);

        var admin = (await client.LoginAdminAsync()).AccessToken;
        using var badSize = await client.GetWithTokenAsync("/api/v1/admin/audit?page_size=100000", admin);
        JsonAssert.IsProblem(badSize, HttpStatusCode.BadRequest);
        using var badDate = await client.GetWithTokenAsync("/api/v1/admin/audit?from=yesterday", admin);
        JsonAssert.IsProblem(badDate, HttpStatusCode.BadRequest);
    }
}
