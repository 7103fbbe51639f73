using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Organizations;

/// <summary>Service users (CONTRACTS.md rows /organizations/{slug}/service-users), their tokens, client_credentials and the legacy x-api-key.</summary>
public sealed class ServiceUserTests : IDisposable
{
    private const string Slug = "lab";
    private const string OrgAdmin = "alice@example.org";
    private const string Base = "/api/v1/organizations/lab/service-users";

    private readonly TokenServerFactory factory = new();
    private HttpClient? client;

    private HttpClient Client => client ??= factory.CreateClient();

    public void Dispose()
    {
        client?.Dispose();
        factory.Dispose();
    }

    /// <summary>An organization "lab" whose admin is alice; returns alice's token.</summary>
    private async Task<string> OrganizationWithAdminAsync()
    {
        var admin = await Client.LoginAdminAsync();
        using (var created = await Client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug = Slug, name = "The Lab" }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await Client.RegisterAsync(OrgAdmin);
        using (var added = await Client.PostJsonWithTokenAsync($"/api/v1/organizations/{Slug}/members", new { email = OrgAdmin, role = "admin" }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        return (await Client.LoginAsync(OrgAdmin)).AccessToken;
    }

    private async Task<(long Id, string ClientId, string Secret)> CreateServiceUserAsync(string token, string name = "pipeline")
    {
        using var response = await Client.PostJsonWithTokenAsync(Base, new { name, role = "researcher" }, token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        return (json.GetProperty("id").GetInt64(), json.GetProperty("client_id").GetString()!, json.GetProperty("client_secret").GetString()!);
    }

    private async Task<(string Id, string Token)> MintAsync(string token, long id, object? body = null)
    {
        using var response = await Client.PostJsonWithTokenAsync($"{Base}/{id}/tokens", body ?? new { }, token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        return (json.GetProperty("id").GetString()!, json.GetProperty("token").GetString()!);
    }

    private async Task<HttpResponseMessage> ClientCredentialsAsync(string clientId, string secret, bool basic)
    {
        var fields = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (!basic)
        {
            fields.Add(new("client_id", clientId));
            fields.Add(new("client_secret", secret));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token") { Content = new FormUrlEncodedContent(fields) };
        if (basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        }

        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task Create_Returns201WithSecretOnce_AndListNeverShowsIt()
    {
        var alice = await OrganizationWithAdminAsync();

        using var created = await Client.PostJsonWithTokenAsync(Base, new { name = "pipeline", role = "researcher" }, alice);
        using var list = await Client.GetWithTokenAsync(Base, alice);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var json = await created.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "name", "role", "client_id", "client_secret");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var item = Assert.Single((await list.ReadJsonAsync()).EnumerateArray());
        JsonAssert.HasExactly(item, "id", "name", "role", "client_id", "created_at", "tokens");
        Assert.DoesNotContain(json.GetProperty("client_secret").GetString()!, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_BadRoleOrName_Returns400()
    {
        var alice = await OrganizationWithAdminAsync();

        using var admin = await Client.PostJsonWithTokenAsync(Base, new { name = "x", role = "admin" }, alice);
        using var noName = await Client.PostJsonWithTokenAsync(Base, new { role = "viewer" }, alice);

        JsonAssert.IsProblem(admin, HttpStatusCode.BadRequest);
        JsonAssert.IsProblem(noName, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Manage_AsPlainMember_Is403_AsOutsider_Is404()
    {
        var alice = await OrganizationWithAdminAsync();
        var admin = await Client.LoginAdminAsync();
        await Client.RegisterAsync("bob@example.org");
        using (var _ = await Client.PostJsonWithTokenAsync($"/api/v1/organizations/{Slug}/members", new { email = "bob@example.org", role = "member" }, admin.AccessToken))
        {
        }

        var bob = (await Client.LoginAsync("bob@example.org")).AccessToken;
        var carol = (await Client.RegisterAndLoginAsync("carol@example.org")).AccessToken;

        using var member = await Client.GetWithTokenAsync(Base, bob);
        using var outsider = await Client.PostJsonWithTokenAsync(Base, new { name = "sneaky" }, carol);

        JsonAssert.IsProblem(member, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(outsider, HttpStatusCode.NotFound);
        Assert.NotNull(alice);
    }

    [Fact]
    public async Task Token_Returns201_WorksEverywhere_AndIsListed()
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, clientId, _) = await CreateServiceUserAsync(alice);

        using var response = await Client.PostJsonWithTokenAsync($"{Base}/{id}/tokens", new { expires_in_days = 90 }, alice);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "token", "expires_at");
        Assert.Equal(factory.Time.GetUtcNow().AddDays(90).ToUnixTimeSeconds(), json.GetProperty("expires_at").GetDateTimeOffset().ToUnixTimeSeconds(), 1.0);
        var token = json.GetProperty("token").GetString()!;
        Assert.Equal("service_user", Jwt.Payload(token).GetProperty("dialect").GetString());
        Assert.Equal(clientId, Jwt.Payload(token).GetProperty("client_id").GetString());

        using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("ts-auth-token", token), ("x-org-slug", Slug)));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var current = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("ts-auth-token", token), ("x-org-slug", Slug)));
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);

        using var list = await Client.GetWithTokenAsync(Base, alice);
        var listed = Assert.Single((await list.ReadJsonAsync())[0].GetProperty("tokens").EnumerateArray());
        JsonAssert.HasExactly(listed, "id", "created_at", "expires_at");
        Assert.Equal(json.GetProperty("id").GetString(), listed.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(366)]
    public async Task Token_OutOfRangeDays_Returns400(int days)
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);

        using var response = await Client.PostJsonWithTokenAsync($"{Base}/{id}/tokens", new { expires_in_days = days }, alice);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Token_LongerThanSigningKeysAreKept_Returns400()
    {
        factory.Settings["TokenServer:Keys:RetainAfterRetirement"] = "10.00:00:00";
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);

        using var response = await Client.PostJsonWithTokenAsync($"{Base}/{id}/tokens", new { expires_in_days = 11 }, alice);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        Assert.Contains("RetainAfterRetirement", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_DefaultsTo30Days()
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);

        var (_, token) = await MintAsync(alice, id);

        var payload = Jwt.Payload(token);
        Assert.Equal(30 * 86400, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    /// <summary>A one-day token, so the fake clock need not fire the revocation poll for a month of ticks.</summary>
    [Fact]
    public async Task Token_StopsAtExpiry()
    {
        // The fake clock fires every periodic timer once per period it skips; a day of 1-second polls is slow.
        factory.Settings["TokenServer:RevocationPollInterval"] = "00:10:00";
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);
        var (_, token) = await MintAsync(alice, id, new { expires_in_days = 1 });

        factory.Time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(2));
        using (var before = await Client.GetWithTokenAsync("/api/v1/auth/me", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        factory.Time.Advance(TimeSpan.FromSeconds(2));
        using var after = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task RevokeToken_Returns204_AndTheTokenIs401AtOnce_OthersKeepWorking()
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);
        var (tokenId, token) = await MintAsync(alice, id);
        var (_, other) = await MintAsync(alice, id);

        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{Base}/{id}/tokens/{tokenId}").WithBearer(alice);
        using var revoked = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var stillOk = await Client.GetWithTokenAsync("/api/v1/auth/me", other);
        Assert.Equal(HttpStatusCode.OK, stillOk.StatusCode);

        using var again = new HttpRequestMessage(HttpMethod.Delete, $"{Base}/{id}/tokens/not-a-token").WithBearer(alice);
        using var unknown = await Client.SendAsync(again);
        JsonAssert.IsProblem(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_Returns204_TokensAndClientCredentialsStopAtOnce()
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, clientId, secret) = await CreateServiceUserAsync(alice);
        var (_, token) = await MintAsync(alice, id);

        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{Base}/{id}").WithBearer(alice);
        using var deleted = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var grant = await ClientCredentialsAsync(clientId, secret, basic: true);
        Assert.Equal(HttpStatusCode.Unauthorized, grant.StatusCode);
        using var list = await Client.GetWithTokenAsync(Base, alice);
        Assert.Empty((await list.ReadJsonAsync()).EnumerateArray());
    }

    private async Task<HttpResponseMessage> AsClientAsync(string path, string clientId, string secret, bool basic, params (string Name, string Value)[] fields)
    {
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).ToList();
        if (!basic)
        {
            form.Add(new("client_id", clientId));
            form.Add(new("client_secret", secret));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        }

        return await Client.SendAsync(request);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Introspect_ByAServiceClient_WithBasicOrFormCredentials_DescribesTheToken(bool basic)
    {
        var alice = await OrganizationWithAdminAsync();
        var (_, clientId, secret) = await CreateServiceUserAsync(alice);
        var user = await Client.RegisterAndLoginAsync("someone@example.org");

        using var active = await AsClientAsync("/api/v1/auth/introspect", clientId, secret, basic, ("token", user.AccessToken));
        using var wrongSecret = await AsClientAsync("/api/v1/auth/introspect", clientId, secret + "x", basic, ("token", user.AccessToken));

        Assert.Equal(HttpStatusCode.OK, active.StatusCode);
        var json = await active.ReadJsonAsync();
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal("someone@example.org", json.GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
        Assert.Equal("invalid_client", (await wrongSecret.ReadJsonAsync()).GetProperty("error").GetString());
        Assert.StartsWith("Basic", wrongSecret.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_ByAServiceClient_RevokesItsOwnToken_NotAnotherAccounts()
    {
        var alice = await OrganizationWithAdminAsync();
        var (_, clientId, secret) = await CreateServiceUserAsync(alice);
        using var grant = await ClientCredentialsAsync(clientId, secret, basic: true);
        var own = (await grant.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        var user = await Client.RegisterAndLoginAsync("bystander@example.org");

        using var revokeOwn = await AsClientAsync("/api/v1/auth/revoke", clientId, secret, basic: true, ("token", own));
        using var revokeOther = await AsClientAsync("/api/v1/auth/revoke", clientId, secret, basic: false, ("token", user.AccessToken));

        Assert.Equal(HttpStatusCode.OK, revokeOwn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revokeOther.StatusCode);
        using var ownMe = await Client.GetWithTokenAsync("/api/v1/auth/me", own);
        Assert.Equal(HttpStatusCode.Unauthorized, ownMe.StatusCode);
        using var otherMe = await Client.GetWithTokenAsync("/api/v1/auth/me", user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, otherMe.StatusCode);
    }

    [Fact]
    public async Task ServiceUser_CannotLogInWithAPassword()
    {
        var alice = await OrganizationWithAdminAsync();
        var (_, clientId, secret) = await CreateServiceUserAsync(alice);

        using var byEmail = await Client.PostRawAsync("/api/v1/auth/login", $"{{\"email\": \"{clientId}@service-users.invalid\", \"password\": \"{secret}\"}}", "application/json");
        using var tetra = await Client.PostRawAsync("/login", $"{{\"email\": \"{clientId}@service-users.invalid\", \"password\": \"{secret}\"}}", "application/json");

        JsonAssert.IsProblem(byEmail, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, tetra.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientCredentials_BasicOrForm_Returns200WithoutRefreshToken(bool basic)
    {
        var alice = await OrganizationWithAdminAsync();
        var (_, clientId, secret) = await CreateServiceUserAsync(alice);

        using var response = await ClientCredentialsAsync(clientId, secret, basic);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "token_type", "expires_in");
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt32());
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", json.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientCredentials_WrongSecret_Returns401InvalidClientWithBasicChallenge(bool basic)
    {
        var alice = await OrganizationWithAdminAsync();
        var (_, clientId, _) = await CreateServiceUserAsync(alice);

        using var response = await ClientCredentialsAsync(clientId, "wrong-secret", basic);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "error", "error_description");
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Discovery_ListsClientCredentials()
    {
        using var response = await Client.GetAsync("/.well-known/openid-configuration");

        var grants = (await response.ReadJsonAsync()).GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString());
        Assert.Contains("client_credentials", grants);
    }

    [Fact]
    public async Task LegacyApiKey_OffByDefault_IsIgnored()
    {
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);
        var (_, token) = await MintAsync(alice, id);

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("x-api-key", token)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Deprecation"));
    }

    [Fact]
    public async Task LegacyApiKey_WhenOn_AcceptsServiceUserTokenWithDeprecationHeader()
    {
        factory.Settings["TokenServer:Dialects:TetraScience:LegacyApiKey:Enabled"] = "true";
        var alice = await OrganizationWithAdminAsync();
        var (id, _, _) = await CreateServiceUserAsync(alice);
        var (_, token) = await MintAsync(alice, id);

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("x-api-key", token)));
        using var personal = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("x-api-key", alice)));
        using var plain = await Client.GetWithTokenAsync("/api/v1/auth/me", alice);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("@", Assert.Single(response.Headers.GetValues("Deprecation")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, personal.StatusCode);
        Assert.True(personal.Headers.Contains("Deprecation"));
        Assert.False(plain.Headers.Contains("Deprecation"));
    }
}
