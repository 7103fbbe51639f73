using System.Net;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// CORS for browser apps (docs/oidc.md "Browser app"): only the origins of public clients'
/// registered redirect URIs may call the token and userinfo endpoints from a page, never with cookies.
/// </summary>
public sealed class BrowserAppCorsTests : IDisposable
{
    private const string AppOrigin = "http://localhost:5173";

    private readonly TokenServerFactory factory = new();
    private readonly HttpClient api;

    public BrowserAppCorsTests() => api = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private async Task RegisterAsync(string clientId, string type)
    {
        var admin = await api.LoginAdminAsync();
        using var response = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", new Dictionary<string, object>
        {
            ["client_id"] = clientId,
            ["name"] = "Browser app",
            ["type"] = type,
            ["redirect_uris"] = new[] { $"{AppOrigin}/callback" },
            ["first_party"] = true,
        }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<string?> AllowedOriginAsync(string path, string origin)
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", path.EndsWith("/token", StringComparison.Ordinal) ? "POST" : "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization");
        using var response = await api.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
    }

    [Theory]
    [InlineData("/api/v1/auth/token")]
    [InlineData("/connect/userinfo")]
    [InlineData("/.well-known/openid-configuration")]
    public async Task PublicClientsOrigin_IsAllowed_OtherOriginsAreNot(string path)
    {
        await RegisterAsync("spa", "public");

        Assert.Equal(AppOrigin, await AllowedOriginAsync(path, AppOrigin));
        Assert.Null(await AllowedOriginAsync(path, "https://evil.example"));
    }

    [Fact]
    public async Task ConfidentialClientsOrigin_IsNotAllowed()
    {
        // A confidential client's secret must not live in a page; its origin gets no CORS.
        await RegisterAsync("portal", "confidential");

        Assert.Null(await AllowedOriginAsync("/api/v1/auth/token", AppOrigin));
    }

    [Fact]
    public async Task TokenResponse_CarriesTheAllowedOrigin()
    {
        await RegisterAsync("spa", "public");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["client_id"] = "spa", ["code"] = "unknown" }),
        };
        request.Headers.Add("Origin", AppOrigin);
        using var response = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(AppOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }
}
