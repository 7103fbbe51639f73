using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Compat;

/// <summary>
/// What every dialect promises: one identity behind
/// every door. Each dialect's test class derives from this and says how to log in there.
/// </summary>
public abstract class DialectContractTests : IDisposable
{
    protected const string Email = "jdoe@example.com";
    protected const string Username = "jdoe";
    protected const string FullName = "John Doe";

    private HttpClient? client;

    protected TokenServerFactory Factory { get; } = new();

    /// <summary>Created on first use, so a test can change <see cref="TokenServerFactory.Settings"/> before the server starts.</summary>
    protected HttpClient Client => client ??= Factory.CreateClient();

    /// <summary>The dialect's name under TokenServer:Dialects.</summary>
    protected abstract string ConfigName { get; }

    /// <summary>The value of the <c>dialect</c> claim its tokens carry.</summary>
    protected abstract string DialectClaim { get; }

    protected abstract TimeSpan DefaultLifetime { get; }

    /// <summary>Logs in the dialect's way; <paramref name="login"/> is whatever that dialect logs in with.</summary>
    protected abstract Task<HttpResponseMessage> SendLoginAsync(HttpClient http, string login, string password);

    /// <summary>Email or username, as the dialect's seed uses.</summary>
    protected abstract string LoginName { get; }

    protected abstract string AccessTokenOf(JsonElement loginBody);

    /// <summary>Uses the dialect's refresh; null when the dialect has none (the login then hands out no refresh token).</summary>
    protected virtual Task<string>? RefreshAsync(JsonElement loginBody) => null;

    /// <summary>Uses the dialect's logout; null when it has none (the native logout then ends the session).</summary>
    protected virtual Task<HttpResponseMessage>? LogoutAsync(string accessToken) => null;

    /// <summary>
    /// Asserts the dialect's answer to a right password from a member of an organization with
    /// single sign-on on: its own failure shape, and no token.
    /// </summary>
    protected abstract Task AssertSsoRefusalAsync(HttpResponseMessage response);

    public void Dispose()
    {
        client?.Dispose();
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }

    protected async Task<JsonElement> RegisterAndLoginHereAsync()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        using var response = await SendLoginAsync(Client, LoginName, Api.Password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task Login_ThenToken_WorksOnNativeProtectedRouteAndNamesDialect()
    {
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());

        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", token);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal(Email, (await me.ReadJsonAsync()).GetProperty("email").GetString());
        var payload = Jwt.Payload(token);
        Assert.Equal(DialectClaim, payload.GetProperty("dialect").GetString());
        Assert.Equal("at+jwt", Jwt.Header(token).GetProperty("typ").GetString());
    }

    [Fact]
    public async Task AccessToken_LivesTheDialectLifetime_ThenIsRefused()
    {
        // The fake clock fires every periodic timer once per period it skips; a day of 1-second polls is slow.
        Factory.Settings["TokenServer:RevocationPollInterval"] = "00:10:00";
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());
        var payload = Jwt.Payload(token);
        Assert.Equal((long)DefaultLifetime.TotalSeconds, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());

        Factory.Time.Advance(DefaultLifetime - TimeSpan.FromSeconds(2));
        using (var before = await Client.GetWithTokenAsync("/api/v1/auth/me", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        Factory.Time.Advance(TimeSpan.FromSeconds(2));
        using var after = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Login_UnknownAccountAndWrongPassword_GiveSameStatusAndBody()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);

        using var wrong = await SendLoginAsync(Client, LoginName, "wrong-password-456");
        using var unknown = await SendLoginAsync(Client, "nobody-" + LoginName, Api.Password);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(wrong.StatusCode, unknown.StatusCode);
        Assert.Equal(await wrong.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
        Assert.Equal(wrong.Content.Headers.ContentType?.ToString(), unknown.Content.Headers.ContentType?.ToString());
        Assert.Equal(wrong.Headers.WwwAuthenticate.ToString(), unknown.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Login_LockedAccount_GivesSameAnswerAsWrongPassword()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        using var wrong = await SendLoginAsync(Client, LoginName, "wrong-password-456");
        var wrongBody = await wrong.Content.ReadAsStringAsync();
        for (var i = 0; i < 5; i++)
        {
            using var _ = await SendLoginAsync(Client, LoginName, "wrong-password-456");
        }

        using var locked = await SendLoginAsync(Client, LoginName, Api.Password);

        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        Assert.Equal(wrongBody, await locked.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_ByMemberOfSingleSignOnOrganization_IsRefusedInTheDialectsShape_WithNoToken()
    {
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);
        await SsoOrganizations.MakeMemberAsync(Client, Email);

        using var response = await SendLoginAsync(Client, LoginName, Api.Password);

        Assert.DoesNotContain("eyJ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertSsoRefusalAsync(response);
    }

    [Fact]
    public async Task Refresh_WhereTheDialectHasIt_GivesWorkingToken_ElseLoginCarriesNoRefreshToken()
    {
        var login = await RegisterAndLoginHereAsync();
        var refreshing = RefreshAsync(login);
        if (refreshing is null)
        {
            Assert.DoesNotContain(login.EnumerateObject(), p => p.Name.Contains("refresh", StringComparison.OrdinalIgnoreCase));
            return;
        }

        var fresh = await refreshing;
        Assert.NotEqual(AccessTokenOf(login), fresh);
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", fresh);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Logout_TheDialectsOrNative_RevokesTheTokenAtOnce()
    {
        var token = AccessTokenOf(await RegisterAndLoginHereAsync());

        using (var logout = await (LogoutAsync(token) ?? NativeLogoutAsync(token)))
        {
            Assert.True(logout.IsSuccessStatusCode, $"logout answered {(int)logout.StatusCode}");
        }

        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task Disabled_DialectLogin_Returns404_AndNativeLoginStillWorks()
    {
        Factory.Settings[$"TokenServer:Dialects:{ConfigName}:Enabled"] = "false";
        await Client.RegisterAsync(Email, fullName: FullName, username: Username);

        using var response = await SendLoginAsync(Client, LoginName, Api.Password);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await Client.LoginAsync(Email);
    }

    [Fact]
    public async Task Configured_AccessTokenLifetime_IsUsed()
    {
        Factory.Settings[$"TokenServer:Dialects:{ConfigName}:AccessTokenLifetime"] = "00:10:00";

        var payload = Jwt.Payload(AccessTokenOf(await RegisterAndLoginHereAsync()));

        Assert.Equal(600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    [Fact]
    public void Invalid_AccessTokenLifetime_StopsTheServerNamingTheKey()
    {
        Factory.Settings[$"TokenServer:Dialects:{ConfigName}:AccessTokenLifetime"] = "-00:00:01";

        var error = Assert.ThrowsAny<Exception>(() => Factory.CreateClient());

        Assert.Contains($"TokenServer:Dialects:{ConfigName}:AccessTokenLifetime", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> NativeLogoutAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/logout").WithBearer(token);
        return await Client.SendAsync(request);
    }
}

public static class SsoOrganizations
{
    /// <summary>Creates an organization with single sign-on on (as an admin) and makes the account a member.</summary>
    public static async Task MakeMemberAsync(HttpClient client, string email, string slug = "sso-lab")
    {
        var admin = await client.LoginAdminAsync();
        using (var created = await client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug, name = "SSO Lab", sso_enabled = true }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var added = await client.PostJsonWithTokenAsync($"/api/v1/organizations/{slug}/members", new { email, role = "member" }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
    }
}

/// <summary>Reads a JWT's parts as a third-party resource server would, without verifying.</summary>
public static class Jwt
{
    public static JsonElement Header(string token) => Part(token, 0);

    public static JsonElement Payload(string token) => Part(token, 1);

    private static JsonElement Part(string token, int index)
    {
        var part = token.Split('.')[index].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(part))).RootElement.Clone();
    }
}

public static class Http
{
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>The exact bytes with the exact Content-Type (or none) and extra headers.</summary>
    public static HttpRequestMessage Raw(HttpMethod method, string path, string? body, string? contentType, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }

            request.Content = content;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }
}
