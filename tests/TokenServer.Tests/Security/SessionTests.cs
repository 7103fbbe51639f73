using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md and the CONTRACTS.md rows for /auth/sessions and /auth/password.</summary>
public sealed class SessionTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public SessionTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path).WithBearer(token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await client.SendAsync(request);
    }

    private async Task<Infrastructure.Tokens> LoginWithAgent(string email, string agent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = JsonContent.Create(new { email, password = Api.Password }) };
        request.Headers.UserAgent.ParseAdd(agent);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        return new Infrastructure.Tokens(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    [Fact]
    public async Task ListSessions_ShowsTheCallersLiveSessions_WithCurrentFlag()
    {
        await client.RegisterAsync("sessions@example.org");
        var laptop = await LoginWithAgent("sessions@example.org", "laptop/1.0");
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        var phone = await LoginWithAgent("sessions@example.org", "phone/2.0");
        await client.RegisterAndLoginAsync("someone-else@example.org");

        using var response = await client.GetWithTokenAsync("/api/v1/auth/sessions", laptop.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var list = await response.ReadJsonAsync();
        Assert.Equal(JsonValueKind.Array, list.ValueKind);
        Assert.Equal(2, list.GetArrayLength());
        var newest = list[0];
        JsonAssert.HasExactly(newest, "id", "created_at", "last_used_at", "expires_at", "client_address", "user_agent", "dialect", "client_id", "current");
        Assert.Equal("phone/2.0", newest.GetProperty("user_agent").GetString());
        Assert.Equal("native", newest.GetProperty("dialect").GetString());
        Assert.False(newest.GetProperty("current").GetBoolean());
        Assert.Equal("laptop/1.0", list[1].GetProperty("user_agent").GetString());
        Assert.True(list[1].GetProperty("current").GetBoolean());
        _ = phone;
    }

    [Fact]
    public async Task DeleteSession_RevokesItsTokensOnTheNextRequest_AndAnotherAccountsSessionIs404()
    {
        await client.RegisterAsync("owner@example.org");
        var a = await client.LoginAsync("owner@example.org");
        var b = await client.LoginAsync("owner@example.org");
        var stranger = await client.RegisterAndLoginAsync("stranger@example.org");

        using var listed = await client.GetWithTokenAsync("/api/v1/auth/sessions", a.AccessToken);
        var sessionB = (await listed.ReadJsonAsync()).EnumerateArray().Single(s => !s.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        using var foreign = await Send(HttpMethod.Delete, $"/api/v1/auth/sessions/{sessionB}", stranger.AccessToken);
        JsonAssert.IsProblem(foreign, HttpStatusCode.NotFound);
        using var stillAlive = await client.GetWithTokenAsync("/api/v1/auth/me", b.AccessToken);
        Assert.Equal(HttpStatusCode.OK, stillAlive.StatusCode);

        using var deleted = await Send(HttpMethod.Delete, $"/api/v1/auth/sessions/{sessionB}", a.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var dead = await client.GetWithTokenAsync("/api/v1/auth/me", b.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, dead.StatusCode);
        using var deadRefresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = b.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, deadRefresh.StatusCode);
        using var alive = await client.GetWithTokenAsync("/api/v1/auth/me", a.AccessToken);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        using var again = await Send(HttpMethod.Delete, $"/api/v1/auth/sessions/{sessionB}", a.AccessToken);
        JsonAssert.IsProblem(again, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteAllSessions_KeepsOnlyTheCurrentOne()
    {
        await client.RegisterAsync("many@example.org");
        var current = await client.LoginAsync("many@example.org");
        var other1 = await client.LoginAsync("many@example.org");
        var other2 = await client.LoginAsync("many@example.org");

        using var deleted = await Send(HttpMethod.Delete, "/api/v1/auth/sessions", current.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", current.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        foreach (var other in new[] { other1, other2 })
        {
            using var refused = await client.GetWithTokenAsync("/api/v1/auth/me", other.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var listed = await client.GetWithTokenAsync("/api/v1/auth/sessions", current.AccessToken);
        Assert.Equal(1, (await listed.ReadJsonAsync()).GetArrayLength());
    }

    [Fact]
    public async Task ChangePassword_Returns204_RevokesOtherSessions_KeepsCurrent_NewPasswordWorks()
    {
        await client.RegisterAsync("change@example.org");
        var current = await client.LoginAsync("change@example.org");
        var other = await client.LoginAsync("change@example.org");

        using var changed = await Send(HttpMethod.Post, "/api/v1/auth/password", current.AccessToken, new { current_password = Api.Password, new_password = "a-brand-new-password" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", current.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var otherMe = await client.GetWithTokenAsync("/api/v1/auth/me", other.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, otherMe.StatusCode);
        using var otherRefresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = other.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, otherRefresh.StatusCode);

        using var oldPassword = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "change@example.org", password = Api.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        await client.LoginAsync("change@example.org", "a-brand-new-password");
    }

    [Fact]
    public async Task ChangePassword_WithWrongCurrentPassword_Returns400NamingTheField_AndChangesNothing()
    {
        await client.RegisterAsync("keep@example.org");
        var current = await client.LoginAsync("keep@example.org");
        var other = await client.LoginAsync("keep@example.org");

        using var refused = await Send(HttpMethod.Post, "/api/v1/auth/password", current.AccessToken, new { current_password = "not-my-password", new_password = "a-brand-new-password" });

        JsonAssert.IsProblem(refused, HttpStatusCode.BadRequest);
        var problem = await refused.ReadJsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty("current_password", out _));
        using var otherMe = await client.GetWithTokenAsync("/api/v1/auth/me", other.AccessToken);
        Assert.Equal(HttpStatusCode.OK, otherMe.StatusCode);
        await client.LoginAsync("keep@example.org");
    }

    [Fact]
    public async Task ChangePassword_WithWeakNewPassword_Returns400OnNewPassword()
    {
        var current = await client.RegisterAndLoginAsync("weak@example.org");

        using var refused = await Send(HttpMethod.Post, "/api/v1/auth/password", current.AccessToken, new { current_password = Api.Password, new_password = "short" });

        JsonAssert.IsProblem(refused, HttpStatusCode.BadRequest);
        Assert.True((await refused.ReadJsonAsync()).GetProperty("errors").TryGetProperty("new_password", out _));
    }

    [Fact]
    public async Task AdminPasswordReset_RevokesEverySessionOfTheAccount_OnTheNextRequest()
    {
        var account = await client.RegisterAsync("reset@example.org");
        var first = await client.LoginAsync("reset@example.org");
        var second = await client.LoginAsync("reset@example.org");
        var admin = await client.LoginAdminAsync();

        using var reset = await client.PostJsonWithTokenAsync($"/api/v1/admin/accounts/{account.GetProperty("id").GetInt64()}/password", new { new_password = "reset-by-admin-1" }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);

        foreach (var tokens in new[] { first, second })
        {
            using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }

        using var adminMe = await client.GetWithTokenAsync("/api/v1/auth/me", admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, adminMe.StatusCode);
        await client.LoginAsync("reset@example.org", "reset-by-admin-1");
    }

    [Fact]
    public async Task SessionRoutes_WithoutToken_Return401()
    {
        using var list = await client.GetAsync("/api/v1/auth/sessions");
        JsonAssert.IsProblem(list, HttpStatusCode.Unauthorized);
        using var change = await client.PostAsJsonAsync("/api/v1/auth/password", new { current_password = "x", new_password = "y" });
        JsonAssert.IsProblem(change, HttpStatusCode.Unauthorized);
    }
}
