using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md "Lockout": counted in the store, per login and client address under an account-wide ceiling; the owner is told when to retry; SSO members get no token by password.</summary>
public sealed class LockoutTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public LockoutTests()
    {
        factory.ConfigureTestServices = TestClientAddress.Register;
        factory.Settings["TokenServer:Lockout:Threshold"] = "5";
        factory.Settings["TokenServer:Lockout:AccountThreshold"] = "8";
        factory.Settings["TokenServer:Lockout:BaseDuration"] = "00:10:00";
        factory.Settings["TokenServer:Lockout:MaxDuration"] = "01:00:00";
    }

    public void Dispose() => factory.Dispose();

    private static async Task<HttpResponseMessage> LoginFrom(HttpClient client, string address, string email, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = JsonContent.Create(new { email, password }) };
        request.Headers.Add(TestClientAddress.Header, address);
        return await client.SendAsync(request);
    }

    private static int RetryAfter(HttpResponseMessage response) =>
        int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), CultureInfo.InvariantCulture);

    private static async Task<string?> DetailOf(HttpResponseMessage response) => (await response.ReadJsonAsync()).GetProperty("detail").GetString();

    [Fact]
    public async Task ConcurrentWrongPasswords_EachCount_SoTheRightOneIsThenRefused()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("parallel@example.org");

        var guesses = Enumerable.Range(0, 5).Select(i => LoginFrom(client, "203.0.113.5", "parallel@example.org", "wrong-guess-" + i)).ToArray();
        foreach (var guess in await Task.WhenAll(guesses))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
            guess.Dispose();
        }

        using var right = await LoginFrom(client, "203.0.113.5", "parallel@example.org", Api.Password);
        JsonAssert.IsProblem(right, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnAttackerAtOneAddress_CannotKeepTheOwnerAtAnotherOut()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("owner@example.org");
        for (var i = 0; i < 7; i++)
        {
            (await LoginFrom(client, "198.51.100.66", "owner@example.org", "wrong-guess-" + i)).Dispose();
        }

        using var owner = await LoginFrom(client, "203.0.113.10", "owner@example.org", Api.Password);

        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
    }

    [Fact]
    public async Task ALockedAddress_IsToldWhenToRetry_TheSameForAnUnknownLogin_AndTheRightPasswordWorksThen()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("patient@example.org");
        for (var i = 0; i < 5; i++)
        {
            (await LoginFrom(client, "203.0.113.20", "patient@example.org", "wrong-guess-" + i)).Dispose();
            (await LoginFrom(client, "203.0.113.20", "nobody@example.org", "wrong-guess-" + i)).Dispose();
        }

        factory.Time.Advance(TimeSpan.FromMinutes(4));
        using var owner = await LoginFrom(client, "203.0.113.20", "patient@example.org", Api.Password);
        using var wrong = await LoginFrom(client, "203.0.113.20", "patient@example.org", "wrong-guess-x");
        using var unknown = await LoginFrom(client, "203.0.113.20", "nobody@example.org", Api.Password);

        Assert.Equal(HttpStatusCode.Unauthorized, owner.StatusCode);
        Assert.Equal(await DetailOf(wrong), await DetailOf(owner));
        Assert.Equal(await DetailOf(unknown), await DetailOf(owner));
        Assert.Equal(6 * 60, RetryAfter(owner));
        Assert.True(wrong.Headers.Contains("Retry-After"));
        Assert.True(unknown.Headers.Contains("Retry-After"));

        // The wrong guess above doubled this address's lock to 20 minutes from then.
        factory.Time.Advance(TimeSpan.FromSeconds(RetryAfter(wrong)));
        using var later = await LoginFrom(client, "203.0.113.20", "patient@example.org", Api.Password);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task ManyAddresses_ReachTheAccountWideCeiling_AndThenEveryAddressIsLocked()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("target@example.org");
        for (var i = 0; i < 8; i++)
        {
            (await LoginFrom(client, $"192.0.2.{i + 1}", "target@example.org", "wrong-guess")).Dispose();
        }

        using var owner = await LoginFrom(client, "203.0.113.30", "target@example.org", Api.Password);

        Assert.Equal(HttpStatusCode.Unauthorized, owner.StatusCode);
        Assert.Equal(600, RetryAfter(owner));
    }

    [Fact]
    public async Task AddressesOfOneIPv6Slash64_CountAsOneClient()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("six@example.org");
        for (var i = 0; i < 5; i++)
        {
            (await LoginFrom(client, $"2001:db8:1:2::{i + 1:x}", "six@example.org", "wrong-guess")).Dispose();
        }

        using var sameNetwork = await LoginFrom(client, "2001:db8:1:2:aaaa::1", "six@example.org", Api.Password);
        using var otherNetwork = await LoginFrom(client, "2001:db8:1:3::1", "six@example.org", Api.Password);

        Assert.Equal(HttpStatusCode.Unauthorized, sameNetwork.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherNetwork.StatusCode);
    }

    [Fact]
    public async Task SingleSignOnMember_GetsNoTokenFromNativeLoginOrOAuthPasswordGrant()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("sso@example.org");
        await SsoOrganizations.MakeMemberAsync(client, "sso@example.org");

        using var native = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "sso@example.org", password = Api.Password });
        using var oauth = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "sso@example.org", ["password"] = Api.Password });
        using var wrong = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "sso@example.org", password = "wrong-guess" });

        JsonAssert.IsProblem(native, HttpStatusCode.Forbidden);
        Assert.Contains("/api/v1/auth/personal-token", (await native.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, oauth.StatusCode);
        var error = await oauth.ReadJsonAsync();
        JsonAssert.HasExactly(error, "error", "error_description");
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        Assert.Contains("single sign-on", error.GetProperty("error_description").GetString(), StringComparison.OrdinalIgnoreCase);

        // Without the password, nothing says the account is in such an organization.
        JsonAssert.IsProblem(wrong, HttpStatusCode.Unauthorized);
    }
}
