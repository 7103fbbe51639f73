using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>The Device Authorization Grant (RFC 8628) through HTTP: a CLI polls while a user enters its code on the device page.</summary>
public sealed class DeviceFlowTests : IDisposable
{
    private const string Email = "cli-user@example.org";
    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private readonly TokenServerFactory factory = new();
    private readonly HttpClient api;
    private readonly HttpClient browser;

    public DeviceFlowTests()
    {
        api = factory.CreateClient();
        browser = factory.Browser();
    }

    public void Dispose() => factory.Dispose();

    private async Task SetUpAsync()
    {
        var admin = await api.LoginAdminAsync();
        using var created = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", new
        {
            client_id = "cli",
            name = "Command line",
            type = "public",
            grant_types = new[] { "urn:ietf:params:oauth:grant-type:device_code", "refresh_token" },
            scopes = new[] { "openid", "email", "offline_access" },
            first_party = true,
        }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await api.RegisterAsync(Email);
    }

    private async Task<JsonElement> StartAsync()
    {
        using var response = await api.PostFormAsync("/connect/device_authorization", new Dictionary<string, string> { ["client_id"] = "cli", ["scope"] = "openid email offline_access" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private Task<HttpResponseMessage> PollAsync(string deviceCode) =>
        api.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = DeviceGrant, ["device_code"] = deviceCode, ["client_id"] = "cli" });

    private async Task<string?> PollErrorAsync(string deviceCode)
    {
        using var response = await PollAsync(deviceCode);
        return response.StatusCode == HttpStatusCode.OK ? null : (await response.ReadJsonAsync()).GetProperty("error").GetString();
    }

    /// <summary>Enters the code on the device page and answers, as the signed-in user would.</summary>
    private async Task<HttpResponseMessage> DecideAsync(string userCode, string decision)
    {
        var page = await browser.GetStringAsync($"/device?user_code={Uri.EscapeDataString(userCode)}");
        Assert.Contains("Allow Command line?", page, StringComparison.Ordinal);
        return await browser.PostAsync("/device", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(page),
            ["user_code"] = userCode,
            ["decision"] = decision,
        }));
    }

    [Fact]
    public async Task DeviceFlow_PendingThenSlowDownThenTokens_AndTheUserCodeWorksOnce()
    {
        await SetUpAsync();
        var start = await StartAsync();
        JsonAssert.HasExactly(start, "device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval");
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", start.GetProperty("user_code").GetString());
        Assert.Equal("http://localhost:8000/device", start.GetProperty("verification_uri").GetString());
        var deviceCode = start.GetProperty("device_code").GetString()!;
        var userCode = start.GetProperty("user_code").GetString()!;

        Assert.Equal("authorization_pending", await PollErrorAsync(deviceCode));
        Assert.Equal("slow_down", await PollErrorAsync(deviceCode));
        factory.Time.Advance(TimeSpan.FromSeconds(11));

        using (var signIn = await browser.SignInAsync(Email))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        using (var allowed = await DecideAsync(userCode.ToLowerInvariant(), "allow"))
        {
            Assert.Contains("Device connected", await allowed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var tokens = await PollAsync(deviceCode);
        Assert.Equal(HttpStatusCode.OK, tokens.StatusCode);
        var json = await tokens.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "token_type", "expires_in", "refresh_token", "id_token", "scope");
        Assert.Equal("cli", OidcKit.Payload(json.GetProperty("id_token").GetString()!).GetProperty("aud").GetString());

        // Single use: the device code and the user code both stop working.
        Assert.Equal("invalid_grant", await PollErrorAsync(deviceCode));
        using var again = await browser.GetAsync($"/device?user_code={userCode}");
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task DeniedRequest_PollsAccessDenied()
    {
        await SetUpAsync();
        var start = await StartAsync();
        (await browser.SignInAsync(Email)).Dispose();

        (await DecideAsync(start.GetProperty("user_code").GetString()!, "deny")).Dispose();

        Assert.Equal("access_denied", await PollErrorAsync(start.GetProperty("device_code").GetString()!));
    }

    [Fact]
    public async Task UnenteredCode_ExpiresAfterTenMinutes()
    {
        await SetUpAsync();
        var start = await StartAsync();

        factory.Time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal("expired_token", await PollErrorAsync(start.GetProperty("device_code").GetString()!));
    }

    [Fact]
    public async Task GuessingUserCodes_IsRateLimited()
    {
        using var limited = new TokenServerFactory();
        limited.Settings["TokenServer:RateLimits:PermitLimit"] = "4";
        var limitedApi = limited.CreateClient();
        await limitedApi.RegisterAsync(Email);
        var guesser = limited.Browser();
        (await guesser.SignInAsync(Email)).Dispose();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await guesser.GetAsync($"/device?user_code=BCDF-GHJ{(char)('K' + i)}");
            statuses.Add(response.StatusCode);
        }

        // Registration and the sign-in page took three of the four permits.
        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task DevicePage_WithoutSignIn_SendsToSignIn()
    {
        using var response = await browser.GetAsync("/device?user_code=BCDF-GHJK");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin?returnUrl=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_ListsDeviceEndpointAndGrant()
    {
        var json = await api.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        Assert.Equal("http://localhost:8000/connect/device_authorization", json.GetProperty("device_authorization_endpoint").GetString());
        Assert.Contains(DeviceGrant, json.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
    }
}
