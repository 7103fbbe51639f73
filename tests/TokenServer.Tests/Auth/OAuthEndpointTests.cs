using System.Net;
using System.Net.Http.Headers;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Auth;

/// <summary>CONTRACTS.md rows /auth/token (RFC 6749), /auth/revoke (RFC 7009), /auth/introspect (RFC 7662).</summary>
public sealed class OAuthEndpointTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public OAuthEndpointTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private static Dictionary<string, string> Form(params (string Key, string Value)[] fields) => fields.ToDictionary(f => f.Key, f => f.Value);

    [Fact]
    public async Task PasswordGrant_ReturnsRfc6749TokenResponse()
    {
        await client.RegisterAsync("oauth@example.org");

        using var response = await client.PostFormAsync("/api/v1/auth/token", Form(("grant_type", "password"), ("username", "oauth@example.org"), ("password", Api.Password)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Contains("no-cache", response.Headers.Pragma.ToString(), StringComparison.Ordinal);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "token_type", "expires_in", "refresh_token");
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt32());
    }

    [Fact]
    public async Task RefreshTokenGrant_Rotates()
    {
        var tokens = await client.RegisterAndLoginAsync("grant@example.org");

        using var response = await client.PostFormAsync("/api/v1/auth/token", Form(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken)));
        using var again = await client.PostFormAsync("/api/v1/auth/token", Form(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("invalid_grant", (await again.ReadJsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("password", "nobody@example.org", "wrong-password", "invalid_grant")]
    [InlineData("implicit", "", "", "unsupported_grant_type")]
    [InlineData("authorization_code", "", "", "invalid_request")]
    [InlineData("", "", "", "invalid_request")]
    [InlineData("password", "", "", "invalid_request")]
    public async Task TokenEndpoint_Errors_FollowRfc6749Section52(string grant, string username, string password, string error)
    {
        using var response = await client.PostFormAsync("/api/v1/auth/token", Form(("grant_type", grant), ("username", username), ("password", password)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "error", "error_description");
        Assert.Equal(error, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TokenEndpoint_WithJsonBody_AsksForAForm()
    {
        using var response = await client.PostRawAsync("/api/v1/auth/token", "{\"grant_type\":\"password\"}", "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.ReadJsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Revoke_RefreshToken_EndsTheSession()
    {
        var tokens = await client.RegisterAndLoginAsync("rev@example.org");

        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", tokens.RefreshToken), ("token_type_hint", "refresh_token")), tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task Revoke_AccessToken_RevokesOnlyThatToken()
    {
        var tokens = await client.RegisterAndLoginAsync("revat@example.org");
        using var refreshed = await client.PostFormAsync("/api/v1/auth/token", Form(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken)));
        var second = (await refreshed.ReadJsonAsync()).GetProperty("access_token").GetString()!;

        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", tokens.AccessToken)), second);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        using var first = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        using var still = await client.GetWithTokenAsync("/api/v1/auth/me", second);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task Revoke_AnotherAccountsToken_Answers200ButChangesNothing()
    {
        var victim = await client.RegisterAndLoginAsync("victim@example.org");
        var attacker = await client.RegisterAndLoginAsync("attacker@example.org");

        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", victim.RefreshToken)), attacker.AccessToken);
        using var revokeAccess = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", victim.AccessToken)), attacker.AccessToken);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revokeAccess.StatusCode);
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", victim.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Revoke_UnknownToken_Answers200()
    {
        var tokens = await client.RegisterAndLoginAsync("unk@example.org");

        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", "garbage")), tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
    }

    [Fact]
    public async Task Revoke_WithoutCredentials_Returns401InvalidClient()
    {
        using var revoke = await client.PostFormAsync("/api/v1/auth/revoke", Form(("token", "x")));

        Assert.Equal(HttpStatusCode.Unauthorized, revoke.StatusCode);
        Assert.Equal("invalid_client", (await revoke.ReadJsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Introspect_AsAdmin_DescribesAnActiveAccessToken()
    {
        var user = await client.RegisterAndLoginAsync("intro@example.org");
        var admin = await client.LoginAdminAsync();

        using var response = await client.PostFormAsync("/api/v1/auth/introspect", Form(("token", user.AccessToken)), admin.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal("intro@example.org", json.GetProperty("username").GetString());
        Assert.Equal("researcher", json.GetProperty("role").GetString());
        Assert.Equal("native", json.GetProperty("dialect").GetString());
        Assert.True(json.GetProperty("exp").GetInt64() > json.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task Introspect_RevokedOrGarbageToken_IsInactiveWithNothingElse()
    {
        var user = await client.RegisterAndLoginAsync("gone@example.org");
        var admin = await client.LoginAdminAsync();
        using (var logout = await client.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        foreach (var token in new[] { user.AccessToken, user.RefreshToken, "garbage" })
        {
            using var response = await client.PostFormAsync("/api/v1/auth/introspect", Form(("token", token)), admin.AccessToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonAssert.HasExactly(await response.ReadJsonAsync(), "active");
        }
    }

    [Fact]
    public async Task Introspect_RefreshToken_IsActiveUntilUsed()
    {
        var user = await client.RegisterAndLoginAsync("rt@example.org");
        var admin = await client.LoginAdminAsync();

        using var response = await client.PostFormAsync("/api/v1/auth/introspect", Form(("token", user.RefreshToken)), admin.AccessToken);

        var json = await response.ReadJsonAsync();
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal("refresh_token", json.GetProperty("token_type").GetString());
    }

    [Fact]
    public async Task Introspect_AsNonAdmin_Returns403()
    {
        var user = await client.RegisterAndLoginAsync("nosy@example.org");

        using var response = await client.PostFormAsync("/api/v1/auth/introspect", Form(("token", user.AccessToken)), user.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task SwaggerPasswordFlow_WithBasicClientHeader_StillGetsAToken()
    {
        await client.RegisterAsync("swagger@example.org");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token")
        {
            Content = new FormUrlEncodedContent(Form(("grant_type", "password"), ("username", "swagger@example.org"), ("password", Api.Password))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("swagger-ui:"u8.ToArray()));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
