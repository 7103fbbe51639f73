using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Auth;

/// <summary>CONTRACTS.md, native API rows register, login, refresh, logout, me.</summary>
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
        JsonAssert.HasExactly(json, "id", "email", "username", "full_name", "role", "status", "created_at");
        Assert.Equal("researcher@university.edu", json.GetProperty("email").GetString());
        Assert.Equal("Ahmed Ali", json.GetProperty("full_name").GetString());
        Assert.Equal("researcher", json.GetProperty("role").GetString());
        Assert.True(json.GetProperty("id").GetInt64() > 0);
    }

    [Fact]
    public async Task Register_WithoutRole_DefaultsToResearcher()
    {
        var json = await client.RegisterAsync("plain@example.org");

        Assert.Equal("researcher", json.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Register_WithInvalidFields_Returns400WithAnErrorPerField()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "not-an-email", password = "short", full_name = "" });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.Contains("at least 8", errors.GetProperty("password")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("full_name", out _));
    }

    [Fact]
    public async Task Register_WithPasswordEqualToEmail_IsRefusedWithAReason()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "same@example.org", password = "same@example.org", full_name = "Same" });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.Contains("email", errors.GetProperty("password")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_DuplicateEmailInAnyCase_Returns409()
    {
        await client.RegisterAsync("dup@example.org");

        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "DUP@Example.org", password = Api.Password, full_name = "Again" });

        JsonAssert.IsProblem(response, HttpStatusCode.Conflict);
        Assert.Contains("/api/v1/auth/login", (await response.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("curator")]
    [InlineData("admin")]
    public async Task Register_PrivilegedRoleWithoutAdminToken_Returns403(string role)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "x@example.org", password = Api.Password, full_name = "X", role });

        JsonAssert.IsProblem(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Register_PrivilegedRoleWithAdminToken_Returns201()
    {
        var admin = await client.LoginAdminAsync();

        var json = await client.RegisterAsync("curator@example.org", role: "curator", bearer: admin.AccessToken);

        Assert.Equal("curator", json.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Login_ReturnsTokenPair_WithNoStore()
    {
        await client.RegisterAsync("login@example.org");

        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "login@example.org", password = Api.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "refresh_token", "token_type", "expires_in");
        Assert.Equal("bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt32());
        Assert.True(json.GetProperty("refresh_token").GetString()!.Length >= 43);
    }

    [Fact]
    public async Task Login_WithUsername_Works()
    {
        await client.RegisterAsync("named@example.org", username: "named_user");

        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "Named_User", password = Api.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Login_WithWrongPassword_Returns401WithSameBodyAsUnknownUser()
    {
        await client.RegisterAsync("known@example.org");

        using var wrong = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "known@example.org", password = "wrong-password-1" });
        using var unknown = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.org", password = "wrong-password-1" });

        JsonAssert.IsProblem(wrong, HttpStatusCode.Unauthorized);
        JsonAssert.IsProblem(unknown, HttpStatusCode.Unauthorized);
        var a = await wrong.ReadJsonAsync();
        var b = await unknown.ReadJsonAsync();
        Assert.Equal(a.GetProperty("title").GetString(), b.GetProperty("title").GetString());
        Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
        JsonAssert.HasExactly(a, "type", "title", "status", "detail", "traceId");
        JsonAssert.HasExactly(b, "type", "title", "status", "detail", "traceId");
    }

    [Fact]
    public async Task Login_WithMissingFields_Returns400()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "a@example.org" });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Login_WithMalformedJson_Returns400NotServerError()
    {
        using var response = await client.PostRawAsync("/api/v1/auth/login", "{\"email\": ", "application/json");

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Passwords_ThatShareTheirFirst72Bytes_AreDifferentPasswords()
    {
        var prefix = new string('p', 72);
        await client.RegisterAsync("long@example.org", password: prefix + "-first");

        using var other = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "long@example.org", password = prefix + "-second" });
        using var same = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "long@example.org", password = prefix + "-first" });

        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }

    [Fact]
    public async Task Me_WithoutToken_Returns401Problem()
    {
        using var response = await client.GetAsync("/api/v1/auth/me");

        JsonAssert.IsProblem(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Me_ReturnsProfileWithOrganizations()
    {
        var tokens = await client.RegisterAndLoginAsync("me@example.org");

        using var response = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "id", "email", "username", "full_name", "role", "status", "created_at", "last_login_at", "organizations");
        Assert.Equal("me@example.org", json.GetProperty("email").GetString());
        Assert.Equal(0, json.GetProperty("organizations").GetArrayLength());
    }

    [Fact]
    public async Task Refresh_RotatesTheRefreshToken()
    {
        var tokens = await client.RegisterAndLoginAsync("rot@example.org");

        using var first = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var json = await first.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "refresh_token", "token_type", "expires_in");
        Assert.NotEqual(tokens.RefreshToken, json.GetProperty("refresh_token").GetString());
        Assert.Contains("no-store", first.Headers.CacheControl?.ToString(), StringComparison.Ordinal);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", json.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Refresh_ReusingAUsedToken_RevokesTheWholeSession()
    {
        var tokens = await client.RegisterAndLoginAsync("reuse@example.org");
        using var first = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        var rotated = await first.ReadJsonAsync();

        using var reuse = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        JsonAssert.IsProblem(reuse, HttpStatusCode.Unauthorized);

        // The thief's use tainted the chain: the legitimate new pair is dead too.
        using var next = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = rotated.GetProperty("refresh_token").GetString() });
        Assert.Equal(HttpStatusCode.Unauthorized, next.StatusCode);
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", rotated.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var original = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, original.StatusCode);
    }

    [Fact]
    public async Task Refresh_ConcurrentDoubleUse_HasExactlyOneWinner()
    {
        var tokens = await client.RegisterAndLoginAsync("race@example.org");

        var attempts = Enumerable.Range(0, 6).Select(_ => client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }));
        var responses = await Task.WhenAll(attempts);

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Refresh_WithUnknownToken_Returns401Or400(string token)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = token });

        Assert.Equal(token.Length == 0 ? HttpStatusCode.BadRequest : HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Refresh_AfterRefreshTokenLifetime_Returns401()
    {
        var tokens = await client.RegisterAndLoginAsync("old@example.org");

        factory.Time.Advance(TimeSpan.FromDays(14));

        using var response = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Logout_RevokesAccessAndRefreshTokenAtOnce()
    {
        var tokens = await client.RegisterAndLoginAsync("bye@example.org");

        using var logout = await client.PostJsonWithTokenAsync("/api/v1/auth/logout", new { refresh_token = tokens.RefreshToken }, tokens.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Contains("invalid_token", me.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
    }

    [Fact]
    public async Task Logout_WithoutBody_Works_AndOtherSessionsStayAlive()
    {
        await client.RegisterAsync("two@example.org");
        var laptop = await client.LoginAsync("two@example.org");
        var desktop = await client.LoginAsync("two@example.org");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/logout").WithBearer(laptop.AccessToken);
        using var logout = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", desktop.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Logout_WithoutToken_Returns401()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/logout", new { });

        JsonAssert.IsProblem(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AccessToken_IsValidOneSecondBeforeExpiry_AndRefusedAtExpiry()
    {
        var tokens = await client.RegisterAndLoginAsync("clock@example.org");

        factory.Time.Advance(TimeSpan.FromSeconds(3599));
        using (var before = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var at = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, at.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_Returns404ProblemDetails()
    {
        using var response = await client.GetAsync("/api/v1/no-such-thing");

        JsonAssert.IsProblem(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Health_ChecksTheStore()
    {
        using var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", (await response.ReadJsonAsync()).GetProperty("status").GetString());
    }
}
