using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Compat;

/// <summary>
/// SeqDB is the native API (seeds/001): each example replayed with the seed's method, path,
/// headers and body bytes. /projects/ and /staging/files belong to the resources issue, so the
/// token is used on /api/v1/auth/me here.
/// </summary>
public sealed class SeqDbSeedTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private HttpClient? client;

    private HttpClient Client => client ??= factory.CreateClient();

    public void Dispose()
    {
        client?.Dispose();
        factory.Dispose();
    }

    private const string RegisterBody = """
        {
            "email": "researcher@university.edu",
            "password": "secure-password-123",
            "full_name": "Ahmed Ali",
            "role": "researcher"
          }
        """;

    [Fact]
    public async Task Seed_Register_Returns201WithTheSeedFields()
    {
        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/v1/auth/register", RegisterBody, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        foreach (var name in new[] { "id", "email", "full_name", "role" })
        {
            Assert.True(json.TryGetProperty(name, out _), $"missing {name}");
        }

        JsonAssert.HasExactly(json, "id", "email", "username", "full_name", "role", "status", "created_at");
        Assert.Equal("Ahmed Ali", json.GetProperty("full_name").GetString());
    }

    [Fact]
    public async Task Seed_Login_Returns200WithAccessRefreshAndExpiresIn3600()
    {
        using var _ = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/v1/auth/register", RegisterBody, "application/json"));

        using var response = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/v1/auth/login",
            """{"email": "researcher@university.edu", "password": "secure-password-123"}""", "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "refresh_token", "token_type", "expires_in");
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt32());

        // Using the token: curl -H "Authorization: Bearer eyJhbG..." on a protected route.
        using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("Authorization", "Bearer " + json.GetProperty("access_token").GetString())));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    /// <summary>
    /// The scripting example and the Python snippet log in as user@example.com with "pass123",
    /// seven characters and one of the most common passwords: the operator lowers
    /// TokenServer:Passwords:MinLength and switches off RefuseCommonPasswords to replay them.
    /// </summary>
    [Fact]
    public async Task Seed_ScriptAndPythonRequests_ExtractAccessTokenAndUseIt()
    {
        factory.Settings["TokenServer:Passwords:MinLength"] = "6";
        factory.Settings["TokenServer:Passwords:RefuseCommonPasswords"] = "false";
        await Client.RegisterAsync("user@example.com", "pass123");

        // curl -s -X POST .../auth/login -H "Content-Type: application/json" -d '{"email": ..., "password": "pass123"}' | python3 -c "...['access_token']"
        using var curl = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/v1/auth/login",
            """{"email": "user@example.com", "password": "pass123"}""", "application/json"));
        var token = JsonDocument.Parse(await curl.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();

        // requests.post(f"{BASE}/auth/login", json={...}): requests writes ", " and ": " separators and sets application/json.
        using var python = await Client.SendAsync(Http.Raw(HttpMethod.Post, "/api/v1/auth/login",
            """{"email": "user@example.com", "password": "pass123"}""", "application/json"));
        var pythonToken = (await python.ReadJsonAsync()).GetProperty("access_token").GetString();

        foreach (var t in new[] { token, pythonToken })
        {
            using var me = await Client.SendAsync(Http.Raw(HttpMethod.Get, "/api/v1/auth/me", null, null, ("Authorization", $"Bearer {t}")));
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }
    }

    [Fact]
    public async Task Seed_TokenExpiresAfterOneHour()
    {
        var tokens = await Client.RegisterAndLoginAsync("researcher@university.edu");

        factory.Time.Advance(TimeSpan.FromSeconds(3599));
        using (var before = await Client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var after = await Client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task AllDialectsDisabled_NativeApiStillAnswers()
    {
        foreach (var name in new[] { "LifeNome", "TrackHub", "NeMO", "TetraScience" })
        {
            factory.Settings[$"TokenServer:Dialects:{name}:Enabled"] = "false";
        }

        await Client.RegisterAndLoginAsync("researcher@university.edu");
        using var nemo = await Client.PostRawAsync("/v1/login", "{}", null);
        using var tetra = await Client.PostRawAsync("/login", "{}", "application/json");
        Assert.Equal(HttpStatusCode.NotFound, nemo.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, tetra.StatusCode);
    }
}
