using System.Net;
using System.Net.Http.Json;
using System.Text;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md: oversized and over-deep bodies get a clear 4xx problem, never a 500 or a hang.</summary>
public sealed class InputLimitTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public InputLimitTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    [Theory]
    [InlineData("/api/v1/auth/login", "application/json")]
    [InlineData("/api/v1/auth/register", "application/json")]
    [InlineData("/api/v1/auth/refresh", "application/json")]
    [InlineData("/api/v1/auth/token", "application/x-www-form-urlencoded")]
    public async Task CredentialRoute_WithBodyOverTheCap_Returns413Problem(string path, string contentType)
    {
        var big = contentType == "application/json"
            ? "{\"email\":\"a@example.org\",\"password\":\"" + new string('p', 20_000) + "\"}"
            : "grant_type=password&username=a&password=" + new string('p', 20_000);

        using var response = await client.PostRawAsync(path, big, contentType);

        JsonAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("bytes", (await response.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialRoute_WithChunkedBodyOverTheCap_Returns413Problem()
    {
        // No Content-Length: the cap must hold while the body is read.
        var bytes = Encoding.UTF8.GetBytes("grant_type=password&username=a&password=" + new string('p', 40_000));
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request);

        JsonAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Login_WithDeeplyNestedJson_Returns400Problem()
    {
        var deep = "{\"email\":" + new string('[', 500) + new string(']', 500) + ",\"password\":\"x\"}";

        using var response = await client.PostRawAsync("/api/v1/auth/login", deep, "application/json");

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AdminPatch_WithDeeplyNestedJson_Returns400Problem()
    {
        var admin = await client.LoginAdminAsync();
        var deep = "{\"role\":" + new string('[', 200) + new string(']', 200) + "}";
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/admin/accounts/1") { Content = new StringContent(deep, Encoding.UTF8, "application/json") }.WithBearer(admin.AccessToken);

        using var response = await client.SendAsync(request);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Login_WithOverlongLoginName_IsAnOrdinary401()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = new string('e', 5000) + "@example.org", password = "x" });

        JsonAssert.IsProblem(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Register_WithOverlongFields_Returns400PerField()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = new string('e', 400) + "@example.org", password = new string('p', 2000), full_name = new string('n', 300) });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("password", out _));
        Assert.True(errors.TryGetProperty("full_name", out _));
    }
}
