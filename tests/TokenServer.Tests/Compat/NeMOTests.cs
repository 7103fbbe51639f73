using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Compat;

/// <summary>NeMO Archive (seeds/003): POST /v1/login with a lenient body, 24-hour token, one failure body.</summary>
public sealed class NeMOTests : DialectContractTests
{
    private const string LoginFailed = "{\"message\":\"Login failed.\"}";

    protected override string ConfigName => "NeMO";
    protected override string DialectClaim => "nemo";
    protected override TimeSpan DefaultLifetime => TimeSpan.FromHours(24);
    protected override string LoginName => Username;

    /// <summary>The seed's curl: -d '{"username": "USERNAME", "password": "PASSWORD"}', which curl labels form-urlencoded.</summary>
    protected override async Task<HttpResponseMessage> SendLoginAsync(HttpClient http, string login, string password)
    {
        using var request = Http.Raw(HttpMethod.Post, "/v1/login", SeedBody(login, password), "application/x-www-form-urlencoded");
        return await http.SendAsync(request);
    }

    protected override string AccessTokenOf(JsonElement loginBody) => loginBody.GetProperty("jwt").GetString()!;

    /// <summary>CONTRACTS.md NeMO: any authentication failure is exactly this 401.</summary>
    protected override async Task AssertSsoRefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("{\"message\":\"Login failed.\"}", await response.Content.ReadAsStringAsync());
    }

    private static string SeedBody(string username, string password) => "{\"username\": \"" + username + "\", \"password\": \"" + password + "\"}";

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    [InlineData("application/json")]
    public async Task Seed_Login_WithAnyContentType_Returns200WithExactShape(string? contentType)
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/v1/login", SeedBody(Username, Api.Password), contentType));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "message", "jwt", "email", "first", "last", "expireAt");
        Assert.Equal("Successful login.", json.GetProperty("message").GetString());
        Assert.Equal(Email, json.GetProperty("email").GetString());
        Assert.Equal("John", json.GetProperty("first").GetString());
        Assert.Equal("Doe", json.GetProperty("last").GetString());
        var expireAt = json.GetProperty("expireAt").GetInt64();
        Assert.Equal(Jwt.Payload(json.GetProperty("jwt").GetString()!).GetProperty("exp").GetInt64(), expireAt);
        Assert.InRange(expireAt - Factory.Time.GetUtcNow().ToUnixTimeSeconds(), 86399, 86400);
    }

    [Theory]
    [InlineData("{\"username\": \"jdoe\", \"password\": \"wrong-password\"}")]
    [InlineData("{\"username\": \"nobody\", \"password\": \"secure-password-123\"}")]
    [InlineData("{\"username\": \"jdoe\"}")]
    [InlineData("{\"username\": ")]
    [InlineData("[1, 2]")]
    [InlineData("")]
    [InlineData("{\"username\": 5, \"password\": true}")]
    public async Task Login_AnyFailure_Returns401WithExactlyLoginFailed(string body)
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/v1/login", body, null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(LoginFailed, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }
}
