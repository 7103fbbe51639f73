using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Auth;

public sealed class NativeAuthTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public NativeAuthTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task Register_AsInSeqDbSeed_Returns201WithAccount()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new
        {
            email = "researcher@university.edu",
            password = "secure-password-123",
            full_name = "Ahmed Ali",
            role = "researcher",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.Equal("researcher@university.edu", json.GetProperty("email").GetString());
        Assert.Equal("Ahmed Ali", json.GetProperty("full_name").GetString());
        Assert.Equal("researcher", json.GetProperty("role").GetString());
        Assert.True(json.GetProperty("id").GetInt64() > 0);
    }

    [Fact]
    public async Task Login_ThenMe_ReturnsProfile()
    {
        var tokens = await client.RegisterAndLoginAsync("me@example.org");

        using var response = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.Equal("me@example.org", json.GetProperty("email").GetString());
    }
}
