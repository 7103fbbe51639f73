using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Compat;

/// <summary>TrackHub Registry (seeds/002): /api/login by Basic or form, /api/logout, and the /api/user/* paths.</summary>
public sealed class TrackHubTests : DialectContractTests
{
    protected override string ConfigName => "TrackHub";
    protected override string DialectClaim => "trackhub";
    protected override TimeSpan DefaultLifetime => TimeSpan.FromHours(24);
    protected override string LoginName => Username;

    protected override async Task<HttpResponseMessage> SendLoginAsync(HttpClient http, string login, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/login");
        request.Headers.Authorization = Http.Basic(login, password);
        return await http.SendAsync(request);
    }

    protected override string AccessTokenOf(JsonElement loginBody) => loginBody.GetProperty("auth_token").GetString()!;

    protected override async Task AssertSsoRefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "error");
        Assert.Contains("single sign-on", json.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    protected override Task<HttpResponseMessage>? LogoutAsync(string accessToken) =>
        Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/logout", null, null, ("Authorization", "Token " + accessToken)));

    private static void AssertLoginBody(JsonElement json, string email)
    {
        JsonAssert.HasExactly(json, "auth_token", "email", "is_account_activated");
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.True(json.GetProperty("is_account_activated").GetBoolean());
    }

    [Fact]
    public async Task Seed_CurlFormLogin_Returns200JsonWithTokenEmailActivated()
    {
        await Client.RegisterAsync("user@email.com", "examplepassword", username: "exampleuser");

        // curl -X POST .../api/login -d "username=exampleuser" -d "password=examplepassword"
        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/login",
            "username=exampleuser&password=examplepassword", "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        AssertLoginBody(await response.ReadJsonAsync(), "user@email.com");
    }

    [Fact]
    public async Task Seed_PerlClient_PostsFormAndReadsAuthToken()
    {
        await Client.RegisterAsync("user@email.com", "examplepass", username: "exampleuser");

        // HTTP::Request::Common POST($url, ['username' => 'exampleuser', 'password' => 'examplepass']).
        using var response = await Client.PostFormAsync("/api/login", [new("username", "exampleuser"), new("password", "examplepass")]);

        Assert.True(response.IsSuccessStatusCode);
        var token = (await response.ReadJsonAsync()).GetProperty("auth_token").GetString();
        Assert.False(string.IsNullOrEmpty(token));
    }

    [Fact]
    public async Task Login_GetWithBasic_Returns200()
    {
        var json = await RegisterAndLoginHereAsync();

        AssertLoginBody(json, Email);
    }

    [Fact]
    public async Task Login_PostWithBasicAndNoBody_Returns200()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/login");
        request.Headers.Authorization = Http.Basic(Username, Api.Password);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertLoginBody(await response.ReadJsonAsync(), Email);
    }

    [Theory]
    [InlineData("username=jdoe&password=secure-password-123", "application/x-www-form-urlencoded")]
    [InlineData("{\"username\": \"jdoe\", \"password\": \"secure-password-123\"}", "application/json")]
    public async Task UserLogin_FormOrJson_Returns200_AndUserLogoutRevokes(string body, string contentType)
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);

        using var login = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/user/login", body, contentType));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var json = await login.ReadJsonAsync();
        AssertLoginBody(json, Email);
        var token = json.GetProperty("auth_token").GetString()!;

        using var logout = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/user/logout", null, null, ("User", Username), ("Auth-Token", token)));
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        JsonAssert.HasExactly(await logout.ReadJsonAsync(), "message");

        using var after = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Logout_Returns200WithMessage()
    {
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/logout", null, null, ("Authorization", "Token " + token)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "message");
        Assert.Equal("Successfully logged out", json.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Logout_WithoutToken_Returns401InTrackHubShape()
    {
        using var response = await Client.GetAsync("/api/logout");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        JsonAssert.HasExactly(await response.ReadJsonAsync(), "error");
    }

    [Fact]
    public async Task Token_WorksWithAuthorizationToken_AndWithUserPlusAuthToken()
    {
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());

        using var viaToken = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("Authorization", "Token " + token)));
        using var viaPair = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("User", Username), ("Auth-Token", token)));
        using var wrongUser = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("User", "someone-else"), ("Auth-Token", token)));

        Assert.Equal(HttpStatusCode.OK, viaToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaPair.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongUser.StatusCode);
    }

    [Fact]
    public async Task Login_Failure_Returns401WithBasicChallenge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/login");
        request.Headers.Authorization = Http.Basic("exampleuser", "wrong-password");

        using var response = await Client.SendAsync(request);
        using var noCredentials = await Client.GetAsync("/api/login");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        JsonAssert.HasExactly(await response.ReadJsonAsync(), "error");
        Assert.Equal(HttpStatusCode.Unauthorized, noCredentials.StatusCode);
    }
}
