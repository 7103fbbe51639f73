using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>CONTRACTS.md "OpenID Connect provider": the client registry admin API and the seed file.</summary>
public sealed class ClientRegistryTests : IDisposable
{
    private static readonly string[] ClientFields =
        ["client_id", "name", "type", "redirect_uris", "post_logout_redirect_uris", "grant_types", "scopes", "first_party", "backchannel_logout_uri", "audience", "access_token_lifetime", "created_at"];

    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task Create_ConfidentialClient_ShowsSecretOnce_ThenNeverAgain()
    {
        var api = factory.CreateClient();
        var admin = await api.LoginAdminAsync();

        var created = await api.RegisterClientAsync(admin.AccessToken, "research-portal", backchannel: "https://app.example.org/backchannel");

        JsonAssert.HasExactly(created, [.. ClientFields, "client_secret"]);
        Assert.Equal("research-portal", created.GetProperty("client_id").GetString());
        Assert.Equal("confidential", created.GetProperty("type").GetString());
        Assert.Equal(43, created.GetProperty("client_secret").GetString()!.Length);
        Assert.Equal(OidcKit.RedirectUri, created.GetProperty("redirect_uris")[0].GetString());
        Assert.Equal("https://app.example.org/backchannel", created.GetProperty("backchannel_logout_uri").GetString());

        using var get = await api.GetWithTokenAsync("/api/v1/admin/clients/research-portal", admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        JsonAssert.HasExactly(await get.ReadJsonAsync(), ClientFields);

        using var list = await api.GetWithTokenAsync("/api/v1/admin/clients", admin.AccessToken);
        var all = await list.ReadJsonAsync();
        Assert.Equal(JsonValueKind.Array, all.ValueKind);
        JsonAssert.HasExactly(all[0], ClientFields);
    }

    [Fact]
    public async Task Create_PublicClientWithoutId_GetsGeneratedIdAndNoSecret()
    {
        var api = factory.CreateClient();
        var admin = await api.LoginAdminAsync();

        using var response = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", new { name = "Browser app", type = "public", redirect_uris = new[] { "http://127.0.0.1:5173/callback" } }, admin.AccessToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, ClientFields);
        Assert.StartsWith("c_", json.GetProperty("client_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(["authorization_code", "refresh_token"], json.GetProperty("grant_types").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("redirect_uris", """{"name":"x","type":"public","redirect_uris":["http://app.example.org/cb"]}""")]
    [InlineData("redirect_uris", """{"name":"x","type":"public","redirect_uris":["https://app.example.org/cb#frag"]}""")]
    [InlineData("redirect_uris", """{"name":"x","type":"public","redirect_uris":[]}""")]
    [InlineData("type", """{"name":"x","type":"spa","redirect_uris":["https://a.example.org/cb"]}""")]
    [InlineData("scopes", """{"name":"x","type":"public","redirect_uris":["https://a.example.org/cb"],"scopes":["openid","admin:all"]}""")]
    [InlineData("grant_types", """{"name":"x","type":"public","redirect_uris":["https://a.example.org/cb"],"grant_types":["implicit"]}""")]
    [InlineData("name", """{"type":"public","redirect_uris":["https://a.example.org/cb"]}""")]
    public async Task Create_InvalidRegistration_Returns400NamingTheField(string field, string body)
    {
        var api = factory.CreateClient();
        var admin = await api.LoginAdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/clients") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") }.WithBearer(admin.AccessToken);

        using var response = await api.SendAsync(request);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Create_DuplicateClientId_Returns409()
    {
        var api = factory.CreateClient();
        var admin = await api.LoginAdminAsync();
        await api.RegisterClientAsync(admin.AccessToken, "twice");

        using var again = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", new { client_id = "twice", name = "x", type = "public", redirect_uris = new[] { OidcKit.RedirectUri } }, admin.AccessToken);

        JsonAssert.IsProblem(again, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Patch_ChangesOnlyGivenFields_AndDeleteRemovesClient()
    {
        var api = factory.CreateClient();
        var admin = await api.LoginAdminAsync();
        await api.RegisterClientAsync(admin.AccessToken, "patched");

        using var patch = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/admin/clients/patched") { Content = System.Net.Http.Json.JsonContent.Create(new { first_party = false, access_token_lifetime = 600 }) }.WithBearer(admin.AccessToken);
        using var patched = await api.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var json = await patched.ReadJsonAsync();
        JsonAssert.HasExactly(json, ClientFields);
        Assert.False(json.GetProperty("first_party").GetBoolean());
        Assert.Equal(600, json.GetProperty("access_token_lifetime").GetInt32());
        Assert.Equal(OidcKit.RedirectUri, json.GetProperty("redirect_uris")[0].GetString());

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/admin/clients/patched").WithBearer(admin.AccessToken);
        using var deleted = await api.SendAsync(delete);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await api.GetWithTokenAsync("/api/v1/admin/clients/patched", admin.AccessToken);
        JsonAssert.IsProblem(gone, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task NonAdmin_Gets403()
    {
        var api = factory.CreateClient();
        var user = await api.RegisterAndLoginAsync("plain@example.org");

        using var response = await api.GetWithTokenAsync("/api/v1/admin/clients", user.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task SeedFile_RegistersClientsAtStart_WithTheGivenSecret()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clients-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """
            [{"client_id":"seeded","name":"Seeded app","type":"confidential","client_secret":"a-seeded-secret-that-is-long-enough-0123456789",
              "redirect_uris":["https://app.example.org/callback"],"scopes":["openid","profile"],"first_party":true}]
            """);
        try
        {
            factory.Settings["TokenServer:Oidc:ClientsFile"] = path;
            var api = factory.CreateClient();
            var admin = await api.LoginAdminAsync();

            using var get = await api.GetWithTokenAsync("/api/v1/admin/clients/seeded", admin.AccessToken);

            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            var json = await get.ReadJsonAsync();
            JsonAssert.HasExactly(json, ClientFields);
            Assert.Equal(["openid", "profile"], json.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
