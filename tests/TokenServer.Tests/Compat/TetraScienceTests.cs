using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Compat;

/// <summary>TetraScience (seeds/004): /login profile, the token payload schema, ts-auth-token, x-org-slug, SSO, personal token.</summary>
public sealed class TetraScienceTests : DialectContractTests
{
    protected override string ConfigName => "TetraScience";
    protected override string DialectClaim => "tetrascience";
    protected override TimeSpan DefaultLifetime => TimeSpan.FromHours(4);
    protected override string LoginName => Email;

    protected override async Task<HttpResponseMessage> SendLoginAsync(HttpClient http, string login, string password)
    {
        using var request = Http.Raw(HttpMethod.Post, "/login", JsonSerializer.Serialize(new { email = login, password }), "application/json");
        return await http.SendAsync(request);
    }

    protected override string AccessTokenOf(JsonElement loginBody) => loginBody.GetProperty("token").GetString()!;

    protected override async Task AssertSsoRefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "statusCode", "error", "message");
        Assert.Contains("/api/v1/auth/personal-token", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<long> CreateOrganizationAsync(string slug, string name, bool sso = false)
    {
        var admin = await Client.LoginAdminAsync();
        using var created = await Client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug, name, sso_enabled = sso }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.ReadJsonAsync()).GetProperty("id").GetInt64();
    }

    private async Task AddMemberAsync(string slug, string email, string role)
    {
        var admin = await Client.LoginAdminAsync();
        using var added = await Client.PostJsonWithTokenAsync($"/api/v1/organizations/{slug}/members", new { email, role }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
    }

    [Fact]
    public async Task Seed_Login_ReturnsProfileWithRolesPerOrganizationAndToken()
    {
        await Client.RegisterAsync(Email, fullName: "John Smith", username: Username);
        var orgId = await CreateOrganizationAsync("diagnostic", "Diagnostic Lab");
        await AddMemberAsync("diagnostic", Email, "admin");

        using var response = await SendLoginAsync(Client, Email, Api.Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "firstName", "lastName", "email", "systemRole", "status", "roles", "token");
        Assert.Equal("John", json.GetProperty("firstName").GetString());
        Assert.Equal("Smith", json.GetProperty("lastName").GetString());
        Assert.Equal("researcher", json.GetProperty("systemRole").GetString());
        Assert.Equal("active", json.GetProperty("status").GetString());
        var role = Assert.Single(json.GetProperty("roles").EnumerateArray());
        JsonAssert.HasExactly(role, "id", "userId", "organizationId", "orgSlug", "orgName", "role");
        Assert.Equal(orgId.ToString(CultureInfo.InvariantCulture), role.GetProperty("organizationId").GetString());
        Assert.Equal("diagnostic", role.GetProperty("orgSlug").GetString());
        Assert.Equal("Diagnostic Lab", role.GetProperty("orgName").GetString());
        Assert.Equal("admin", role.GetProperty("role").GetString());
        Assert.Equal(json.GetProperty("id").GetString(), role.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Seed_TokenPayload_CarriesSchemaVersionAndAuthStacks()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        var orgId = await CreateOrganizationAsync("tetrascience", "TetraScience");
        await AddMemberAsync("tetrascience", Email, "member");
        using var response = await SendLoginAsync(Client, Email, Api.Password);
        var json = await response.ReadJsonAsync();

        var payload = Jwt.Payload(json.GetProperty("token").GetString()!);

        Assert.Equal(1, payload.GetProperty("tsTokenSchemaVersion").GetInt32());
        var informatics = payload.GetProperty("authStacks").GetProperty("informatics");
        JsonAssert.HasExactly(informatics, "systemRoles", "userId", "organizations");
        Assert.Equal(json.GetProperty("id").GetString(), informatics.GetProperty("userId").GetString());
        Assert.Equal("researcher", informatics.GetProperty("systemRoles")[0].GetString());
        var organization = informatics.GetProperty("organizations").GetProperty(orgId.ToString(CultureInfo.InvariantCulture));
        JsonAssert.HasExactly(organization, "slug", "roles");
        Assert.Equal("tetrascience", organization.GetProperty("slug").GetString());
        Assert.Equal("member", organization.GetProperty("roles")[0].GetString());
        Assert.Equal(4 * 3600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task Seed_HeaderExamples_TsAuthTokenOrBearerWithOrgSlug_Work()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        await CreateOrganizationAsync("diagnostic", "Diagnostic Lab");
        await AddMemberAsync("diagnostic", Email, "member");
        var token = AccessTokenOf(await (await SendLoginAsync(Client, Email, Api.Password)).ReadJsonAsync());

        using var viaTs = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("ts-auth-token", token), ("x-org-slug", "diagnostic")));
        using var viaBearer = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("Authorization", "Bearer " + token), ("x-org-slug", "diagnostic")));

        Assert.Equal(HttpStatusCode.OK, viaTs.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaBearer.StatusCode);
        var json = await viaTs.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "slug", "name", "role");
        Assert.Equal("member", json.GetProperty("role").GetString());
    }

    [Fact]
    public async Task OrgSlug_Missing_Is400_UnknownOrNotMember_Is403_InTetraScienceShape()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        await CreateOrganizationAsync("other-lab", "Other Lab");
        var token = AccessTokenOf(await (await SendLoginAsync(Client, Email, Api.Password)).ReadJsonAsync());

        using var missing = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("ts-auth-token", token)));
        using var notMember = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("ts-auth-token", token), ("x-org-slug", "other-lab")));
        using var unknown = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("ts-auth-token", token), ("x-org-slug", "no-such-lab")));

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, notMember.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        JsonAssert.HasExactly(await missing.ReadJsonAsync(), "statusCode", "error", "message");
        Assert.Equal(await notMember.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OrgScopedRoute_WithoutToken_Returns401InTetraScienceShape()
    {
        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/v1/organizations/current", null, null, ("x-org-slug", "diagnostic")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "statusCode", "error", "message");
        Assert.Equal(401, json.GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task TwoDifferentTokens_Returns400()
    {
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());
        var other = (await Client.LoginAsync(Email)).AccessToken;

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("ts-auth-token", token), ("Authorization", "Bearer " + other)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Sso_Organization_RefusesPasswordLoginWith403PointingToPersonalToken()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        await CreateOrganizationAsync("sso-lab", "SSO Lab", sso: true);
        await AddMemberAsync("sso-lab", Email, "member");

        using var response = await SendLoginAsync(Client, Email, Api.Password);
        using var wrongPassword = await SendLoginAsync(Client, Email, "wrong-password-456");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "statusCode", "error", "message");
        Assert.Contains("/api/v1/auth/personal-token", json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
    }

    [Fact]
    public async Task PersonalToken_Returns201WithFourHourTsToken()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        var native = await Client.LoginAsync(Email);

        using var response = await Client.PostJsonWithTokenAsync("/api/v1/auth/personal-token", new { }, native.AccessToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "token", "expires_at");
        var token = json.GetProperty("token").GetString()!;
        var payload = Jwt.Payload(token);
        Assert.Equal(4 * 3600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.Equal(1, payload.GetProperty("tsTokenSchemaVersion").GetInt32());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(payload.GetProperty("exp").GetInt64()), json.GetProperty("expires_at").GetDateTimeOffset());
        using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("ts-auth-token", token)));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task PersonalToken_WithoutBearer_Returns401()
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/auth/personal-token", new { });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
