using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// docs/security.md "One caller" and "Account changes end sessions": who is calling is read
/// from the store once per request, by one rule for x-org-slug, and a change to an account
/// takes its powers and its sessions away at once.
/// </summary>
public sealed class CallerAuthorityTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private HttpClient? started;

    /// <summary>Started at first use, so a test can change settings and services before.</summary>
    private HttpClient client => started ??= factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.WithBearer(token);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request);
    }

    private async Task<string> AdminAsync() => (await client.LoginAdminAsync()).AccessToken;

    private async Task<long> AccountAsync(string email, string? role = null)
    {
        var admin = await AdminAsync();
        var created = await client.RegisterAsync(email, role: role, bearer: role is null ? null : admin);
        return created.GetProperty("id").GetInt64();
    }

    private async Task OrganizationAsync(string slug, params (string Email, string Role)[] members)
    {
        var admin = await AdminAsync();
        using var created = await SendAsync(HttpMethod.Post, "/api/v1/admin/organizations", admin, new { slug, name = slug });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        foreach (var (email, role) in members)
        {
            using var added = await SendAsync(HttpMethod.Post, $"/api/v1/organizations/{slug}/members", admin, new { email, role });
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }
    }

    private async Task<string> NeMOLoginAsync(string email)
    {
        using var response = await client.PostAsJsonAsync("/v1/login", new { username = email, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("jwt").GetString()!;
    }

    [Theory]
    [InlineData("lab-a")]
    [InlineData("Lab-A")]
    [InlineData(" LAB-A ")]
    public async Task OrgSlug_AnyCase_SelectsTheSameOrganization_OnCreateAndOnCurrent(string header)
    {
        await AccountAsync("member@example.org");
        await OrganizationAsync("lab-a", ("member@example.org", "member"));
        await OrganizationAsync("lab-b", ("member@example.org", "member"));
        var token = (await client.LoginAsync("member@example.org")).AccessToken;

        using var created = await SendAsync(HttpMethod.Post, "/api/v1/projects", token, new { title = "Slug case" }, ("x-org-slug", header));
        using var current = await SendAsync(HttpMethod.Get, "/v1/organizations/current", token, null, ("x-org-slug", header));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        var json = await current.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "slug", "name", "role");
        Assert.Equal("lab-a", json.GetProperty("slug").GetString());
        Assert.Equal("member", json.GetProperty("role").GetString());
    }

    [Fact]
    public async Task OrgSlug_OfAnOrganizationNotJoined_IsRefusedAlikeOnCreateAndOnCurrent()
    {
        await AccountAsync("member@example.org");
        await OrganizationAsync("lab-a", ("member@example.org", "member"));
        await OrganizationAsync("lab-b");
        var token = (await client.LoginAsync("member@example.org")).AccessToken;

        using var created = await SendAsync(HttpMethod.Post, "/api/v1/projects", token, new { title = "Not mine" }, ("x-org-slug", "LAB-B"));
        using var current = await SendAsync(HttpMethod.Get, "/v1/organizations/current", token, null, ("x-org-slug", "LAB-B"));

        Assert.Equal(HttpStatusCode.Forbidden, created.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, current.StatusCode);
    }

    [Fact]
    public async Task DemotedAdmin_LosesAdminPowersAtOnce_OnEveryRoute_EvenWithA24HourNeMOToken()
    {
        var id = await AccountAsync("second-admin@example.org", role: "admin");
        var victim = await client.RegisterAndLoginAsync("victim@example.org");
        var stale = await NeMOLoginAsync("second-admin@example.org");
        using (var before = await client.GetWithTokenAsync("/api/v1/admin/accounts", stale))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var demoted = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", await AdminAsync(), new { role = "viewer" });
        Assert.Equal(HttpStatusCode.OK, demoted.StatusCode);

        using var admin = await client.GetWithTokenAsync("/api/v1/admin/accounts", stale);
        using var audit = await client.GetWithTokenAsync("/api/v1/admin/audit", stale);
        using var organization = await SendAsync(HttpMethod.Post, "/api/v1/admin/organizations", stale, new { slug = "stolen", name = "Stolen" });
        using var introspect = await client.PostFormAsync("/api/v1/auth/introspect", [new("token", victim.AccessToken)], stale);
        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", [new("token", victim.RefreshToken)], stale);
        Assert.True(admin.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"admin list answered {admin.StatusCode}");
        Assert.True(audit.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"audit answered {audit.StatusCode}");
        Assert.True(organization.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"organization create answered {organization.StatusCode}");
        Assert.True(introspect.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"introspect answered {introspect.StatusCode}");

        // The victim's refresh token still works: the demoted admin's revoke did nothing.
        using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = victim.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, refresh.StatusCode);
    }

    [Fact]
    public async Task RoleReadFromTheStore_NotFromTheToken_WhenTheRoleChangesBehindALiveSession()
    {
        var id = await AccountAsync("second-admin@example.org", role: "admin");
        await AccountAsync("member@example.org");
        await OrganizationAsync("lab-a", ("member@example.org", "member"));
        var stale = await NeMOLoginAsync("second-admin@example.org");

        // A change that ends no session (as a direct store edit would): only a live read catches it.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var account = await db.Accounts.SingleAsync(a => a.Id == id);
            account.Role = AccountRoles.Viewer;
            await db.SaveChangesAsync();
        }

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", stale);
        using var admin = await client.GetWithTokenAsync("/api/v1/admin/accounts", stale);
        using var members = await client.GetWithTokenAsync("/api/v1/organizations/lab-a/members", stale);
        using var add = await SendAsync(HttpMethod.Post, "/api/v1/organizations/lab-a/members", stale, new { email = "second-admin@example.org", role = "admin" });
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        JsonAssert.IsProblem(admin, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(members, HttpStatusCode.NotFound);
        JsonAssert.IsProblem(add, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("role", "curator")]
    [InlineData("status", "disabled")]
    public async Task RoleChangeOrDisable_EndsEverySessionOfTheAccount(string field, string value)
    {
        var id = await AccountAsync("changed@example.org");
        var native = await client.LoginAsync("changed@example.org");
        var nemo = await NeMOLoginAsync("changed@example.org");

        using var patch = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", await AdminAsync(), new Dictionary<string, string> { [field] = value });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", native.AccessToken);
        using var nemoMe = await client.GetWithTokenAsync("/api/v1/auth/me", nemo);
        using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = native.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, nemoMe.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
    }

    [Theory]
    [InlineData("role", "curator")]
    [InlineData("status", "disabled")]
    public async Task LoginInFlightDuringAChange_ComesOutWithoutALiveSession(string field, string value)
    {
        var gate = new AccountReadGate();
        factory.ConfigureTestServices = services => services.AddSingleton<IInterceptor>(gate);
        var id = await AccountAsync("racing@example.org");
        var admin = await AdminAsync();

        // The login has read the account and goes on with what it read while the change lands.
        gate.Arm();
        var login = client.PostAsJsonAsync("/api/v1/auth/login", new { email = "racing@example.org", password = Api.Password });
        Assert.True(await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)), "The login never read the account.");
        using (var patch = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", admin, new Dictionary<string, string> { [field] = value }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        gate.Release();
        using var response = await login;

        if (response.StatusCode == HttpStatusCode.OK)
        {
            var json = await response.ReadJsonAsync();
            using var me = await client.GetWithTokenAsync("/api/v1/auth/me", json.GetProperty("access_token").GetString()!);
            using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = json.GetProperty("refresh_token").GetString() });
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        Assert.False(await db.Sessions.AnyAsync(s => s.AccountId == id && s.RevokedAt == null));
    }

    [Fact]
    public async Task OrganizationAdmin_CannotGiveAServiceUserMoreThanTheirOwnSystemRole()
    {
        await AccountAsync("viewer@example.org", role: "viewer");
        await OrganizationAsync("lab-a", ("viewer@example.org", "admin"));
        var viewer = (await client.LoginAsync("viewer@example.org")).AccessToken;

        using var curator = await SendAsync(HttpMethod.Post, "/api/v1/organizations/lab-a/service-users", viewer, new { name = "robot", role = "curator" });
        using var researcher = await SendAsync(HttpMethod.Post, "/api/v1/organizations/lab-a/service-users", viewer, new { name = "robot", role = "researcher" });
        using var same = await SendAsync(HttpMethod.Post, "/api/v1/organizations/lab-a/service-users", viewer, new { name = "robot", role = "viewer" });
        using var bySystemAdmin = await SendAsync(HttpMethod.Post, "/api/v1/organizations/lab-a/service-users", await AdminAsync(), new { name = "curator-robot", role = "curator" });

        JsonAssert.IsProblem(curator, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(researcher, HttpStatusCode.Forbidden);
        Assert.Contains("viewer", (await curator.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, same.StatusCode);
        Assert.Equal(HttpStatusCode.Created, bySystemAdmin.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/projects/")]
    [InlineData("/api/v1/admin/accounts")]
    [InlineData("/api/v1/admin/audit")]
    [InlineData("/api/v1/checklists/")]
    [InlineData("/api/v1/search/?q=x")]
    public async Task EveryList_PagesByOneRule(string path)
    {
        var admin = await AdminAsync();
        var separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";

        using var one = await client.GetWithTokenAsync($"{path}{separator}page_size=1", admin);
        using var tooBig = await client.GetWithTokenAsync($"{path}{separator}page_size=101", admin);
        using var zero = await client.GetWithTokenAsync($"{path}{separator}page_size=0", admin);
        using var badPage = await client.GetWithTokenAsync($"{path}{separator}page=0", admin);
        using var max = await client.GetWithTokenAsync($"{path}{separator}page_size=100", admin);

        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var page = await one.ReadJsonAsync();
        JsonAssert.HasExactly(page, "count", "next", "previous", "results");
        Assert.True(page.GetProperty("results").GetArrayLength() <= 1);
        if (page.GetProperty("count").GetInt32() > 1)
        {
            Assert.Contains("page=2", page.GetProperty("next").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, max.StatusCode);
        foreach (var refused in new[] { tooBig, zero })
        {
            JsonAssert.IsProblem(refused, HttpStatusCode.BadRequest);
            var errors = (await refused.ReadJsonAsync()).GetProperty("errors");
            Assert.Equal("Use a page size from 1 to 100, for example ?page_size=50.", errors.GetProperty("page_size")[0].GetString());
        }

        JsonAssert.IsProblem(badPage, HttpStatusCode.BadRequest);
        Assert.True((await badPage.ReadJsonAsync()).GetProperty("errors").TryGetProperty("page", out _));
    }

    [Fact]
    public async Task Checklists_HonourPageSize()
    {
        using var response = await client.GetAsync("/api/v1/checklists/?page_size=1");

        var json = await response.ReadJsonAsync();
        Assert.Equal(3, json.GetProperty("count").GetInt32());
        Assert.Equal(1, json.GetProperty("results").GetArrayLength());
        Assert.Equal("http://localhost/api/v1/checklists/?page_size=1&page=2", json.GetProperty("next").GetString());
    }

    /// <summary>
    /// Holds a login just after it has read the account by email (so it goes on with what it
    /// read), until the test lets it go. Outside any write turn, so the change can land meanwhile.
    /// </summary>
    private sealed class AccountReadGate : DbCommandInterceptor
    {
        private readonly SemaphoreSlim release = new(0);
        private int armed;

        public SemaphoreSlim Reached { get; } = new(0);

        public void Arm() => Volatile.Write(ref armed, 1);

        public void Release() => release.Release();

        public override async ValueTask<System.Data.Common.DbDataReader> ReaderExecutedAsync(
            System.Data.Common.DbCommand command, CommandExecutedEventData eventData, System.Data.Common.DbDataReader result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("accounts", StringComparison.Ordinal)
                && command.CommandText.Contains("ormalized", StringComparison.OrdinalIgnoreCase)
                && Interlocked.Exchange(ref armed, 0) == 1)
            {
                Reached.Release();
                await release.WaitAsync(cancellationToken);
            }

            return result;
        }
    }
}
