using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tests.Resources;

namespace TokenServer.Tests.PersonalAccessTokens;

/// <summary>CONTRACTS.md "Personal access tokens": create, list, revoke, scopes, expiry, every header scheme.</summary>
public sealed class PersonalAccessTokenTests : IDisposable
{
    private const string Path = "/api/v1/auth/personal-access-tokens";
    private readonly ResourceWorld world = new(s => s["TokenServer:Dialects:TrackHub:Enabled"] = "true");

    private HttpClient Client => world.Client;

    public void Dispose() => world.Dispose();

    private async Task<HttpResponseMessage> CreateAsync(string bearer, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = JsonContent.Create(body) }.WithBearer(bearer);
        return await Client.SendAsync(request);
    }

    private async Task<string> CreateTokenAsync(string bearer, string[] scopes, DateTimeOffset? expiresAt = null)
    {
        using var response = await CreateAsync(bearer, expiresAt is null ? new { name = "script", scopes } : new { name = "script", scopes, expires_at = expiresAt });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }

    private async Task<JsonElement> ListAsync(string bearer)
    {
        using var response = await Client.GetWithTokenAsync(Path, bearer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task Create_Returns201WithTokenOnce_AndTheListNeverShowsIt()
    {
        var login = (await Client.RegisterAndLoginAsync("pat@example.org")).AccessToken;
        var expiresAt = world.Factory.Time.GetUtcNow().AddDays(7);

        using var created = await CreateAsync(login, new { name = "nightly upload", scopes = new[] { "write", "read" }, expires_at = expiresAt });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("application/json", created.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", created.Headers.CacheControl?.ToString());
        var json = await created.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "name", "scopes", "expires_at", "token");
        Assert.Equal("nightly upload", json.GetProperty("name").GetString());
        Assert.Equal(["read", "write"], json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(expiresAt, json.GetProperty("expires_at").GetDateTimeOffset());
        var token = json.GetProperty("token").GetString()!;
        Assert.StartsWith("tsp_", token);
        Assert.Equal(47, token.Length);

        var list = await ListAsync(login);
        var item = Assert.Single(list.EnumerateArray());
        JsonAssert.HasExactly(item, "id", "name", "scopes", "created_at", "expires_at", "last_used_at");
        Assert.Equal(json.GetProperty("id").GetString(), item.GetProperty("id").GetString());
        Assert.DoesNotContain(token, list.GetRawText());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("last_used_at").ValueKind);
    }

    [Fact]
    public async Task Token_IsNotStoredInTheClear()
    {
        var login = (await Client.RegisterAndLoginAsync("hash@example.org")).AccessToken;
        var token = await CreateTokenAsync(login, ["read"]);

        // The SQLite store and its write-ahead log: the secret part of the token appears in neither.
        if (world.Factory.Store.Provider != "Sqlite")
        {
            return;
        }

        var path = world.Factory.Store.ConnectionString.Split('=', 2)[1].Split(';')[0];
        foreach (var file in new[] { path, path + "-wal" }.Where(File.Exists))
        {
            using var copy = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(copy, System.Text.Encoding.Latin1);
            Assert.DoesNotContain(token[4..], await reader.ReadToEndAsync());
        }
    }

    [Theory]
    [InlineData("Authorization", "Bearer ")]
    [InlineData("Authorization", "Token ")]
    [InlineData("Authorization", "JWT ")]
    [InlineData("ts-auth-token", "")]
    public async Task Token_WorksInEveryHeaderScheme(string header, string prefix)
    {
        var login = (await Client.RegisterAndLoginAsync("schemes@example.org")).AccessToken;
        var token = await CreateTokenAsync(login, ["read"]);

        using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, (header, prefix + token)));

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal("schemes@example.org", (await me.ReadJsonAsync()).GetProperty("email").GetString());
    }

    [Fact]
    public async Task Token_WorksWithUserAndAuthTokenPair_OnlyForItsOwner()
    {
        await Client.RegisterAsync("pair@example.org", username: "pairuser");
        var token = await CreateTokenAsync((await Client.LoginAsync("pair@example.org")).AccessToken, ["read"]);

        using var ok = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("User", "pairuser"), ("Auth-Token", token)));
        using var wrong = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("User", "someone-else"), ("Auth-Token", token)));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task ReadScope_ReadsButA_WriteGets403ThatNamesTheScope()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");
        var read = await CreateTokenAsync(researcher, ["read"]);
        var write = await CreateTokenAsync(researcher, ["write"]);

        using var refused = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", read, new { title = "Soil", description = "Topsoil" }, "lab-a");
        JsonAssert.IsProblem(refused, HttpStatusCode.Forbidden);
        Assert.Contains("'write' scope", (await refused.ReadJsonAsync()).GetProperty("detail").GetString());

        var project = await world.CreateAsync("/api/v1/projects/", write, new { title = "Soil", description = "Topsoil" }, "lab-a");
        var seen = await world.GetJsonAsync($"/api/v1/projects/{project}", read);
        Assert.Equal("Soil", seen.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AdminRoutes_NeedTheAdminScope_EvenForAnAdminsToken()
    {
        var admin = await world.AdminAsync();
        var adminScope = await CreateTokenAsync(admin, ["admin"]);
        var writeScope = await CreateTokenAsync(admin, ["read", "write"]);

        using var allowed = await Client.GetWithTokenAsync("/api/v1/admin/accounts", adminScope);
        using var refused = await Client.GetWithTokenAsync("/api/v1/admin/accounts", writeScope);
        using var privileged = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/register")
        {
            Content = JsonContent.Create(new { email = "curator@example.org", password = Api.Password, full_name = "C", role = "curator" }),
        }.WithBearer(writeScope));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        JsonAssert.IsProblem(refused, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(privileged, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("researcher", "admin")]
    [InlineData("viewer", "write")]
    public async Task Create_WithAScopeBeyondTheRole_Returns403(string role, string scope)
    {
        var login = (await Client.RegisterAndLoginAsync($"{role}@example.org", role: role)).AccessToken;

        using var response = await CreateAsync(login, new { name = "too much", scopes = new[] { scope } });

        JsonAssert.IsProblem(response, HttpStatusCode.Forbidden);
        Assert.Contains($"'{scope}'", (await response.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(0, (await ListAsync(login)).GetArrayLength());
    }

    [Fact]
    public async Task APersonalAccessToken_CannotCreateAnother_NorATetraSciencePersonalToken()
    {
        var login = (await Client.RegisterAndLoginAsync("chain@example.org")).AccessToken;
        var token = await CreateTokenAsync(login, ["read", "write"]);

        using var another = await CreateAsync(token, new { name = "child", scopes = new[] { "read" } });
        using var personal = await Client.PostJsonWithTokenAsync("/api/v1/auth/personal-token", new { }, token);

        JsonAssert.IsProblem(another, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(personal, HttpStatusCode.Forbidden);
        Assert.Single((await ListAsync(login)).EnumerateArray());
    }

    [Fact]
    public async Task TetraSciencePersonalToken_KeepsItsShape()
    {
        var login = (await Client.RegisterAndLoginAsync("ts@example.org")).AccessToken;

        using var response = await Client.PostJsonWithTokenAsync("/api/v1/auth/personal-token", new { }, login);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        JsonAssert.HasExactly(await response.ReadJsonAsync(), "token", "expires_at");
    }

    [Theory]
    [InlineData("{\"scopes\":[\"read\"]}", "name")]
    [InlineData("{\"name\":\"x\",\"scopes\":[]}", "scopes")]
    [InlineData("{\"name\":\"x\",\"scopes\":[\"delete\"]}", "scopes")]
    [InlineData("{\"name\":\"x\",\"scopes\":[\"read\"],\"expires_at\":\"2000-01-01T00:00:00Z\"}", "expires_at")]
    public async Task Create_WithBadFields_Returns400NamingTheField(string body, string field)
    {
        var login = (await Client.RegisterAndLoginAsync("bad@example.org")).AccessToken;

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, Path, body, "application/json", ("Authorization", "Bearer " + login)));

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Create_BeyondTheOperatorMaximum_Returns400_AndWithoutExpiryGetsTheDefault()
    {
        var login = (await Client.RegisterAndLoginAsync("max@example.org")).AccessToken;
        var now = world.Factory.Time.GetUtcNow();

        using var tooLong = await CreateAsync(login, new { name = "forever", scopes = new[] { "read" }, expires_at = now.AddDays(366) });
        using var defaulted = await CreateAsync(login, new { name = "default", scopes = new[] { "read" } });

        JsonAssert.IsProblem(tooLong, HttpStatusCode.BadRequest);
        Assert.Contains("365 days", (await tooLong.ReadJsonAsync()).GetProperty("errors").GetProperty("expires_at")[0].GetString());
        Assert.Equal(now.AddDays(30), (await defaulted.ReadJsonAsync()).GetProperty("expires_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Token_WorksUntilOneSecondBeforeExpiry_AndIsRefusedAtExpiry()
    {
        var login = (await Client.RegisterAndLoginAsync("expiry@example.org")).AccessToken;
        var expiresAt = world.Factory.Time.GetUtcNow().AddDays(2);
        var token = await CreateTokenAsync(login, ["read"], expiresAt);

        world.Factory.Time.SetUtcNow(expiresAt.AddSeconds(-1));
        using (var before = await Client.GetWithTokenAsync("/api/v1/auth/me", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        world.Factory.Time.SetUtcNow(expiresAt);
        using var at = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        JsonAssert.IsProblem(at, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Delete_RevokesAtOnce_AndOnlyTheOwnerCanDelete()
    {
        var login = (await Client.RegisterAndLoginAsync("revoke@example.org")).AccessToken;
        var other = (await Client.RegisterAndLoginAsync("other@example.org")).AccessToken;
        var token = await CreateTokenAsync(login, ["read"]);
        var id = (await ListAsync(login))[0].GetProperty("id").GetString();
        using (var warm = await Client.GetWithTokenAsync("/api/v1/auth/me", token))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        using var notYours = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{Path}/{id}").WithBearer(other));
        JsonAssert.IsProblem(notYours, HttpStatusCode.NotFound);

        using var deleted = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{Path}/{id}").WithBearer(login));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var after = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        JsonAssert.IsProblem(after, HttpStatusCode.Unauthorized);
        using var again = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{Path}/{id}").WithBearer(login));
        JsonAssert.IsProblem(again, HttpStatusCode.NotFound);
        Assert.Equal(0, (await ListAsync(login)).GetArrayLength());
    }

    /// <summary>The store keeps times to the millisecond (SQLite) or microsecond (PostgreSQL).</summary>
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);

    private async Task<DateTimeOffset> LastUsedAsync(string login) => (await ListAsync(login))[0].GetProperty("last_used_at").GetDateTimeOffset();

    [Fact]
    public async Task LastUsed_IsStampedAtMostOnceAMinute()
    {
        var login = (await Client.RegisterAndLoginAsync("lastused@example.org")).AccessToken;
        var token = await CreateTokenAsync(login, ["read"]);
        var clock = world.Factory.Time;

        var firstUse = clock.GetUtcNow();
        (await Client.GetWithTokenAsync("/api/v1/auth/me", token)).Dispose();
        Assert.Equal(firstUse, await LastUsedAsync(login), Millisecond);

        clock.Advance(TimeSpan.FromSeconds(59));
        (await Client.GetWithTokenAsync("/api/v1/auth/me", token)).Dispose();
        Assert.Equal(firstUse, await LastUsedAsync(login), Millisecond);

        clock.Advance(TimeSpan.FromSeconds(1));
        (await Client.GetWithTokenAsync("/api/v1/auth/me", token)).Dispose();
        Assert.Equal(firstUse.AddMinutes(1), await LastUsedAsync(login), Millisecond);
    }

    [Fact]
    public async Task DisablingTheAccount_StopsItsTokens()
    {
        var registered = await Client.RegisterAsync("disabled@example.org");
        var token = await CreateTokenAsync((await Client.LoginAsync("disabled@example.org")).AccessToken, ["read"]);

        using var patch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{registered.GetProperty("id").GetInt64()}", await world.AdminAsync(), new { status = "disabled" });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task TrackHubScript_UsesAToken_InPlaceOfALogin_AndItsLogoutLeavesTheTokenAlive()
    {
        await Client.RegisterAsync("hub@example.org", username: "hubuser");
        var token = await CreateTokenAsync((await Client.LoginAsync("hub@example.org")).AccessToken, ["read", "write"]);

        using var logout = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/logout", null, null, ("User", "hubuser"), ("Auth-Token", token)));
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        JsonAssert.HasExactly(await logout.ReadJsonAsync(), "message");

        using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("Authorization", "Token " + token)));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task ReadToken_OnATrackHubWriteRoute_Gets403InTheDialectsShape()
    {
        await Client.RegisterAsync("hubread@example.org", username: "hubread");
        var token = await CreateTokenAsync((await Client.LoginAsync("hubread@example.org")).AccessToken, ["read"]);

        using var logout = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/user/logout", null, null, ("User", "hubread"), ("Auth-Token", token)));

        Assert.Equal(HttpStatusCode.Forbidden, logout.StatusCode);
        Assert.Equal("application/json", logout.Content.Headers.ContentType?.MediaType);
    }
}
