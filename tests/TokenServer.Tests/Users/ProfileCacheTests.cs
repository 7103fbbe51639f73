using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Users;

/// <summary>
/// Protected requests read the caller's profile from memory (docs/performance.md); every change to it must
/// still show on the next request, on this instance at once and on another within a poll.
/// Each test reads the profile first, so that what it checks is a cached profile being forgotten.
/// </summary>
public sealed class ProfileCacheTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public ProfileCacheTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task RoleChange_ShowsInMe_OnTheNextRequest()
    {
        var (id, user) = await UserAsync("role@example.org");
        Assert.Equal("researcher", (await MeAsync(client, user)).GetProperty("role").GetString());

        await AdminSendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", new { role = "curator" }, HttpStatusCode.OK);

        // A role change ends the account's sessions (docs/security.md); the next login sees the new role.
        using (var old = await client.GetWithTokenAsync("/api/v1/auth/me", user))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        }

        Assert.Equal("curator", (await MeAsync(client, (await client.LoginAsync("role@example.org")).AccessToken)).GetProperty("role").GetString());
    }

    [Fact]
    public async Task MembershipAddedAndRemoved_ShowsInMe_OnTheNextRequest()
    {
        var (id, user) = await UserAsync("member@example.org");
        await AdminSendAsync(HttpMethod.Post, "/api/v1/admin/organizations", new { slug = "cache-lab", name = "Cache Lab" }, HttpStatusCode.Created);
        Assert.Empty((await MeAsync(client, user)).GetProperty("organizations").EnumerateArray());

        await AdminSendAsync(HttpMethod.Post, "/api/v1/organizations/cache-lab/members", new { email = "member@example.org", role = "member" }, HttpStatusCode.Created);
        var organization = Assert.Single((await MeAsync(client, user)).GetProperty("organizations").EnumerateArray());
        Assert.Equal("cache-lab", organization.GetProperty("slug").GetString());

        await AdminSendAsync(HttpMethod.Delete, $"/api/v1/organizations/cache-lab/members/{id}", null, HttpStatusCode.NoContent);
        Assert.Empty((await MeAsync(client, user)).GetProperty("organizations").EnumerateArray());
    }

    [Fact]
    public async Task NewLogin_ShowsInMe_AsTheLastLogin()
    {
        var (_, user) = await UserAsync("login@example.org");
        var first = (await MeAsync(client, user)).GetProperty("last_login_at").GetDateTimeOffset();

        // Less than the store poll's period, so only the local forget can show it.
        factory.Time.Advance(TimeSpan.FromSeconds(5));
        await client.LoginAsync("login@example.org");

        Assert.Equal(first + TimeSpan.FromSeconds(5), (await MeAsync(client, user)).GetProperty("last_login_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Demotion_RightAfterAWrite_RefusesTheNextWrite()
    {
        var (id, user) = await UserAsync("writer@example.org");
        await AdminSendAsync(HttpMethod.Post, "/api/v1/admin/organizations", new { slug = "write-lab", name = "Write Lab" }, HttpStatusCode.Created);
        await AdminSendAsync(HttpMethod.Post, "/api/v1/organizations/write-lab/members", new { email = "writer@example.org", role = "member" }, HttpStatusCode.Created);
        using (var before = await client.PostJsonWithTokenAsync("/api/v1/projects/", new { title = "Allowed" }, user))
        {
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);
        }

        await AdminSendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", new { role = "viewer" }, HttpStatusCode.OK);

        using var after = await client.PostJsonWithTokenAsync("/api/v1/projects/", new { title = "Too late" }, user);
        // A role change ends the account's sessions (docs/security.md, "Account changes end sessions").
        JsonAssert.IsProblem(after, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ChangeMadeByAnotherInstance_ShowsAfterThisInstancePolls()
    {
        // A second server on the same store, as behind a load balancer.
        using var other = new TokenServerFactory();
        other.Settings["ConnectionStrings:TokenServer"] = factory.Store.ConnectionString;
        using var otherClient = other.CreateClient();
        var (_, user) = await UserAsync("elsewhere@example.org");
        await AdminSendAsync(HttpMethod.Post, "/api/v1/admin/organizations", new { slug = "far-lab", name = "Far Lab" }, HttpStatusCode.Created);
        Assert.Empty((await MeAsync(otherClient, user)).GetProperty("organizations").EnumerateArray());

        // A membership change ends no session (a role change would), so the profile itself must be forgotten.
        await AdminSendAsync(HttpMethod.Post, "/api/v1/organizations/far-lab/members", new { email = "elsewhere@example.org", role = "member" }, HttpStatusCode.Created);
#if !POSTGRES
        // Still cached there until it polls (on PostgreSQL the change's notification may already
        // have reached it: Tokens/StoreChangeSync.cs).
        Assert.Empty((await MeAsync(otherClient, user)).GetProperty("organizations").EnumerateArray());
#endif

        // The other instance's store poll runs (its fake clock fires timers once a fake minute).
        other.Time.Advance(TimeSpan.FromMinutes(1));
        var count = 0;
        for (var attempt = 0; attempt < 100 && count == 0; attempt++)
        {
            await Task.Delay(50);
            count = (await MeAsync(otherClient, user)).GetProperty("organizations").GetArrayLength();
        }

        Assert.Equal(1, count);
    }

    private async Task<(long Id, string AccessToken)> UserAsync(string email)
    {
        var created = await client.RegisterAsync(email);
        var tokens = await client.LoginAsync(email);
        return (created.GetProperty("id").GetInt64(), tokens.AccessToken);
    }

    private static async Task<JsonElement> MeAsync(HttpClient on, string token)
    {
        using var me = await on.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        return await me.ReadJsonAsync();
    }

    private async Task AdminSendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        var admin = await client.LoginAdminAsync();
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) }.WithBearer(admin.AccessToken);
        using var response = await client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }
}
