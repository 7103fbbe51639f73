using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md: per-address rate limits on credential routes and per-account lockout with back-off.</summary>
public sealed class BruteForceTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public BruteForceTests()
    {
        factory.ConfigureTestServices = TestClientAddress.Register;
        factory.Settings["TokenServer:Lockout:Threshold"] = "3";
        factory.Settings["TokenServer:Lockout:BaseDuration"] = "00:01:00";
        factory.Settings["TokenServer:Lockout:MaxDuration"] = "00:10:00";
    }

    public void Dispose() => factory.Dispose();

    private static async Task<HttpResponseMessage> LoginFrom(HttpClient client, string address, string email, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = JsonContent.Create(new { email, password }) };
        request.Headers.Add(TestClientAddress.Header, address);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> TokenFrom(HttpClient client, string address, string username, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = username, ["password"] = password }),
        };
        request.Headers.Add(TestClientAddress.Header, address);
        return await client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> Login(HttpClient client, string email, string password) =>
        client.PostAsJsonAsync("/api/v1/auth/login", new { email, password });

    [Fact]
    public async Task Login_OverTheAddressLimit_Returns429ProblemWithRetryAfter_AndOtherAddressIsUnaffected()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "3";
        var client = factory.CreateClient();
        await client.RegisterAsync("rl@example.org");

        for (var i = 0; i < 3; i++)
        {
            // An unknown account, so that the per-account lockout plays no part here.
            using var allowed = await LoginFrom(client, "203.0.113.7", "guess" + i + "@example.org", "wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, allowed.StatusCode);
        }

        // Even the right password is refused while the address is over its limit.
        using var limited = await LoginFrom(client, "203.0.113.7", "rl@example.org", Api.Password);
        JsonAssert.IsProblem(limited, HttpStatusCode.TooManyRequests);
        var retryAfter = Assert.Single(limited.Headers.GetValues("Retry-After"));
        Assert.InRange(int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        var body = await limited.ReadJsonAsync();
        Assert.Contains("Retry-After", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var other = await LoginFrom(client, "198.51.100.9", "rl@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task TokenEndpoint_OverTheAddressLimit_Returns429InOAuthShape()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "2";
        var client = factory.CreateClient();

        (await TokenFrom(client, "203.0.113.8", "nobody@example.org", "x")).Dispose();
        (await TokenFrom(client, "203.0.113.8", "nobody@example.org", "x")).Dispose();
        using var limited = await TokenFrom(client, "203.0.113.8", "nobody@example.org", "x");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/json", limited.Content.Headers.ContentType?.MediaType);
        Assert.True(limited.Headers.Contains("Retry-After"));
        var json = await limited.ReadJsonAsync();
        JsonAssert.HasExactly(json, "error", "error_description");
        Assert.Equal("slow_down", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RegisterAndRefresh_AreCredentialRoutesToo()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "1";
        var client = factory.CreateClient();

        using var first = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = "x" });
        JsonAssert.IsProblem(refresh, HttpStatusCode.TooManyRequests);
        using var register = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "a@example.org", password = "long-enough-1", full_name = "A" });
        JsonAssert.IsProblem(register, HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task PersonalTokenAndLifeNomeVerify_AreRateLimited_AndIPv6IsCountedPerSlash64()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "2";
        var client = factory.CreateClient();
        await client.RegisterAsync("pt@example.org");
        string token;
        using (var login = await LoginFrom(client, "2001:db8:5:6::1", "pt@example.org", Api.Password))
        {
            token = (await login.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        }

        async Task<HttpStatusCode> Send(string path, string address, object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }.WithBearer(token);
            request.Headers.Add(TestClientAddress.Header, address);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        // The login above was the first request of 2001:db8:5:6::/64; another address in it is the second.
        Assert.Equal(HttpStatusCode.Created, await Send("/api/v1/auth/personal-token", "2001:db8:5:6::2", new { }));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Send("/api/v1/auth/personal-token", "2001:db8:5:6:ffff::9", new { }));
        Assert.Equal(HttpStatusCode.OK, await Send("/platform-api/api/core-api/auth/token/verify/", "198.51.100.40", new { token }));
        Assert.Equal(HttpStatusCode.OK, await Send("/platform-api/api/core-api/auth/token/verify/", "198.51.100.40", new { token }));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Send("/platform-api/api/core-api/auth/token/verify/", "198.51.100.40", new { token }));
    }

    [Fact]
    public async Task Lockout_BlocksEvenTheRightPassword_UntilItEnds_AndOtherAccountsAreUnaffected()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("victim@example.org");
        await client.RegisterAsync("bystander@example.org");

        for (var i = 0; i < 3; i++)
        {
            using var wrong = await Login(client, "victim@example.org", "wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var locked = await Login(client, "victim@example.org", Api.Password);
        JsonAssert.IsProblem(locked, HttpStatusCode.Unauthorized);

        using var bystander = await Login(client, "bystander@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, bystander.StatusCode);

        factory.Time.Advance(TimeSpan.FromSeconds(59));
        using var stillLocked = await Login(client, "victim@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, stillLocked.StatusCode);

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var unlocked = await Login(client, "victim@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, unlocked.StatusCode);
    }

    [Fact]
    public async Task Lockout_GrowsWithEachFurtherFailure()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("grow@example.org");
        for (var i = 0; i < 4; i++)
        {
            (await Login(client, "grow@example.org", "wrong-password")).Dispose();
        }

        // Threshold 3: the third failure locks for 1 minute, the fourth (during the lockout) for 2.
        factory.Time.Advance(TimeSpan.FromSeconds(119));
        using var locked = await Login(client, "grow@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var open = await Login(client, "grow@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Fact]
    public async Task AdminUnlock_EndsTheLockoutAtOnce()
    {
        var client = factory.CreateClient();
        var account = await client.RegisterAsync("unlock@example.org");
        for (var i = 0; i < 3; i++)
        {
            (await Login(client, "unlock@example.org", "wrong-password")).Dispose();
        }

        using var locked = await Login(client, "unlock@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);

        var admin = await client.LoginAdminAsync();
        using var unlock = await client.PostJsonWithTokenAsync($"/api/v1/admin/accounts/{account.GetProperty("id").GetInt64()}/unlock", new { }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, unlock.StatusCode);

        using var open = await Login(client, "unlock@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }
}
