using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tokens;

namespace TokenServer.Tests.Security;

/// <summary>
/// docs/security.md "Personal tokens", "Refresh tokens stay at their door", "Retired and
/// withdrawn keys" and "Revocations reach every instance": no token outlives what made it.
/// </summary>
public sealed class TokenLineageTests : IDisposable
{
    private const string Email = "lineage@example.org";
    private readonly TokenServerFactory factory = new();
    private HttpClient? started;

    /// <summary>Started at first use, so a test can change settings and services before.</summary>
    private HttpClient client => started ??= factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private async Task<HttpResponseMessage> PersonalTokenAsync(string token) =>
        await client.PostJsonWithTokenAsync("/api/v1/auth/personal-token", new { }, token);

    private async Task<string> TetraScienceLoginAsync(string email)
    {
        using var response = await client.PostAsJsonAsync("/login", new { email, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task PersonalToken_MintedWithAPersonalToken_IsRefused()
    {
        var login = await client.RegisterAndLoginAsync(Email);
        using var first = await PersonalTokenAsync(login.AccessToken);
        var personal = (await first.ReadJsonAsync()).GetProperty("token").GetString()!;

        using var second = await PersonalTokenAsync(personal);

        JsonAssert.IsProblem(second, HttpStatusCode.Forbidden);
        Assert.Contains("/api/v1/auth/login", (await second.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PersonalToken_FromASessionEndedOnAnotherInstance_IsRefusedBeforeThisInstanceHearsOfIt()
    {
        _ = client;
        using var other = new TokenServerFactory();
        other.Settings["ConnectionStrings:TokenServer"] = factory.Store.ConnectionString;
        using var otherClient = other.CreateClient();
        var login = await client.RegisterAndLoginAsync(Email);
        using (var logout = await otherClient.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, login.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

#if !POSTGRES
        // This instance has not polled yet, so the token itself still passes here (on PostgreSQL
        // the logout's notification may already have reached it: Tokens/StoreChangeSync.cs)...
        using (var me = await client.GetWithTokenAsync("/api/v1/auth/me", login.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }
#endif

        // ...but a personal token is only minted from a session the store says is live.
        using var minted = await PersonalTokenAsync(login.AccessToken);
        JsonAssert.IsProblem(minted, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PersonalToken_EndsNoLaterThanTheSessionThatAskedForIt()
    {
        await client.RegisterAsync(Email);
        var tetra = await TetraScienceLoginAsync(Email);
        var parentEnds = DateTimeOffset.FromUnixTimeSeconds(Jwt.Payload(tetra).GetProperty("exp").GetInt64());
        factory.Time.Advance(TimeSpan.FromHours(3));

        using var response = await PersonalTokenAsync(tetra);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.Equal(parentEnds, json.GetProperty("expires_at").GetDateTimeOffset());
        var personal = json.GetProperty("token").GetString()!;
        factory.Time.Advance(TimeSpan.FromHours(1));
        using var after = await client.GetWithTokenAsync("/api/v1/auth/me", personal);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task PersonalToken_IsListedInTheOwnersSessions()
    {
        var login = await client.RegisterAndLoginAsync(Email);
        using var minted = await PersonalTokenAsync(login.AccessToken);
        var personal = (await minted.ReadJsonAsync()).GetProperty("token").GetString()!;

        using var list = await client.GetWithTokenAsync("/api/v1/auth/sessions", login.AccessToken);

        var sessions = (await list.ReadJsonAsync()).EnumerateArray().ToList();
        Assert.Contains(sessions, s => s.GetProperty("id").GetString() == Jwt.Payload(personal).GetProperty("sid").GetString()
            && s.GetProperty("client_id").GetString() == "personal-token");
    }

    [Fact]
    public async Task ServiceUsersPersonalToken_IsListedWithTheServiceUsersTokens()
    {
        var admin = (await client.LoginAdminAsync()).AccessToken;
        (await client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug = "robots", name = "Robots" }, admin)).Dispose();
        using var created = await client.PostJsonWithTokenAsync("/api/v1/organizations/robots/service-users", new { name = "bot", role = "researcher" }, admin);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetInt64();
        using var minted = await client.PostJsonWithTokenAsync($"/api/v1/organizations/robots/service-users/{id}/tokens", new { expires_in_days = 1 }, admin);
        var robotToken = (await minted.ReadJsonAsync()).GetProperty("token").GetString()!;

        using var personal = await PersonalTokenAsync(robotToken);
        Assert.Equal(HttpStatusCode.Created, personal.StatusCode);
        var sid = Jwt.Payload((await personal.ReadJsonAsync()).GetProperty("token").GetString()!).GetProperty("sid").GetString();

        using var list = await client.GetWithTokenAsync("/api/v1/organizations/robots/service-users", admin);
        var tokens = (await list.ReadJsonAsync())[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ToList();
        Assert.Equal(2, tokens.Count);
        Assert.Contains(sid, tokens);
    }

    [Fact]
    public async Task PersonalToken_IsRateLimited()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "4";
        var login = await client.RegisterAndLoginAsync(Email);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await PersonalTokenAsync(login.AccessToken);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task LifeNomeRefreshToken_DoesNotRedeemAtTheNativeDoor_AndNativeNotAtLifeNome()
    {
        await client.RegisterAsync(Email);
        using var lifeNome = await client.PostAsJsonAsync("/platform-api/api/core-api/auth/token/", new { username = Email, password = Api.Password });
        var lifeNomeRefresh = (await lifeNome.ReadJsonAsync()).GetProperty("refresh").GetString()!;
        var native = await client.LoginAsync(Email);

        using var nativeDoor = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = lifeNomeRefresh });
        using var oauthDoor = await client.PostFormAsync("/api/v1/auth/token", [new("grant_type", "refresh_token"), new("refresh_token", lifeNomeRefresh)]);
        using var lifeNomeDoor = await client.PostAsJsonAsync("/platform-api/api/core-api/auth/token/refresh/", new { refresh = native.RefreshToken });

        JsonAssert.IsProblem(nativeDoor, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.BadRequest, oauthDoor.StatusCode);
        Assert.Equal("invalid_grant", (await oauthDoor.ReadJsonAsync()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, lifeNomeDoor.StatusCode);

        // Each still redeems at its own door: refusing elsewhere neither used nor revoked it.
        using var own = await client.PostAsJsonAsync("/platform-api/api/core-api/auth/token/refresh/", new { refresh = lifeNomeRefresh });
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var access = (await own.ReadJsonAsync()).GetProperty("access").GetString()!;
        var payload = Jwt.Payload(access);
        Assert.Equal(300, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task RetiredKey_DoesNotSign_ATokenIssuedAfterItsRetirementIsRefused()
    {
        factory.Settings["TokenServer:Keys:PublishLead"] = "00:01:00";
        var login = await client.RegisterAndLoginAsync(Email);
        var oldKey = factory.Services.GetRequiredService<SigningKeyRing>().CurrentSigningCredentials;
        var admin = (await client.LoginAdminAsync()).AccessToken;
        using (var rotated = await client.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, admin))
        {
            Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        }

        // Signed with the old key while it was still the signing key: accepted.
        var before = Forge(login.AccessToken, oldKey, factory.Time.GetUtcNow());
        using (var ok = await client.GetWithTokenAsync("/api/v1/auth/me", before))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        factory.Time.Advance(TimeSpan.FromMinutes(2));
        var after = Forge(login.AccessToken, oldKey, factory.Time.GetUtcNow());

        using var refused = await client.GetWithTokenAsync("/api/v1/auth/me", after);
        using var introspected = await client.PostFormAsync("/api/v1/auth/introspect", [new("token", after)], (await client.LoginAdminAsync()).AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False((await introspected.ReadJsonAsync()).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task WithdrawnKey_FailsAtOnce_AndANewKeySignsFromNow()
    {
        var user = await client.RegisterAndLoginAsync(Email);
        var admin = (await client.LoginAdminAsync()).AccessToken;
        var kid = Jwt.Header(user.AccessToken).GetProperty("kid").GetString()!;

        using var withdrawn = await client.PostJsonWithTokenAsync($"/api/v1/admin/keys/{kid}/withdraw", new { }, admin);

        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        var json = await withdrawn.ReadJsonAsync();
        JsonAssert.HasExactly(json, "kid", "withdrawn_at");
        Assert.Equal(kid, json.GetProperty("kid").GetString());
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", user.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        var jwks = await (await client.GetAsync("/.well-known/jwks.json")).ReadJsonAsync();
        Assert.DoesNotContain(jwks.GetProperty("keys").EnumerateArray(), k => k.GetProperty("kid").GetString() == kid);

        var again = await client.LoginAsync(Email);
        Assert.NotEqual(kid, Jwt.Header(again.AccessToken).GetProperty("kid").GetString());
        using var works = await client.GetWithTokenAsync("/api/v1/auth/me", again.AccessToken);
        Assert.Equal(HttpStatusCode.OK, works.StatusCode);

        var newAdmin = (await client.LoginAdminAsync()).AccessToken;
        using var twice = await client.PostJsonWithTokenAsync($"/api/v1/admin/keys/{kid}/withdraw", new { }, newAdmin);
        JsonAssert.IsProblem(twice, HttpStatusCode.NotFound);
        using var byUser = await client.PostJsonWithTokenAsync($"/api/v1/admin/keys/{Jwt.Header(again.AccessToken).GetProperty("kid").GetString()}/withdraw", new { }, again.AccessToken);
        JsonAssert.IsProblem(byUser, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task WithdrawnKey_FailsOnAnotherInstance_AtItsNextPoll()
    {
        // This instance starts first and creates the key; the other's clock is a moment ahead.
        _ = client;
        using var other = new TokenServerFactory();
        other.Settings["ConnectionStrings:TokenServer"] = factory.Store.ConnectionString;
        using var otherClient = other.CreateClient();
        var user = await client.RegisterAndLoginAsync(Email);
        using (var before = await otherClient.GetWithTokenAsync("/api/v1/auth/me", user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var kid = Jwt.Header(user.AccessToken).GetProperty("kid").GetString()!;
        using (var withdrawn = await client.PostJsonWithTokenAsync($"/api/v1/admin/keys/{kid}/withdraw", new { }, (await client.LoginAdminAsync()).AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceOtherPolledAsync(other, otherClient, user.AccessToken));
    }

    [Fact]
    public async Task RevocationByAnInstanceWhoseClockLags_ReachesTheOtherInstance()
    {
        factory.Settings["TokenServer:AccessTokenLifetime"] = "03:00:00";
        _ = client;
        using var ahead = new TokenServerFactory();
        ahead.Settings["ConnectionStrings:TokenServer"] = factory.Store.ConnectionString;
        ahead.Settings["TokenServer:AccessTokenLifetime"] = "03:00:00";
        using var aheadClient = ahead.CreateClient();
        var user = await client.RegisterAndLoginAsync(Email);

        // The other instance's clock runs an hour ahead, and it has polled since.
        ahead.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, await StatusOnceOtherPolledAsync(ahead, aheadClient, user.AccessToken, until: null));

        // Revoked here, stamped with this instance's (lagging) clock.
        using (var logout = await client.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceOtherPolledAsync(ahead, aheadClient, user.AccessToken));
    }

    /// <summary>Moves the other instance's fake clock so its store poll runs, then asks until the answer is <paramref name="until"/> (or once, if null).</summary>
    private static async Task<HttpStatusCode> StatusOnceOtherPolledAsync(TokenServerFactory other, HttpClient otherClient, string token, HttpStatusCode? until = HttpStatusCode.Unauthorized)
    {
        other.Time.Advance(TimeSpan.FromMinutes(1));
        var status = HttpStatusCode.OK;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await Task.Delay(50);
            using var response = await otherClient.GetWithTokenAsync("/api/v1/auth/me", token);
            status = response.StatusCode;
            if (until is null || status == until)
            {
                break;
            }
        }

        return status;
    }

    /// <summary>The token's own claims, issued at <paramref name="issuedAt"/>, signed with <paramref name="key"/>: what a thief holding a retired key could mint.</summary>
    private static string Forge(string token, SigningCredentials key, DateTimeOffset issuedAt)
    {
        var payload = JsonNode.Parse(Jwt.Payload(token).GetRawText())!.AsObject();
        payload["iat"] = issuedAt.ToUnixTimeSeconds();
        payload["nbf"] = issuedAt.ToUnixTimeSeconds();
        payload["exp"] = issuedAt.ToUnixTimeSeconds() + 600;
        payload["jti"] = Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray());
        return new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), key, new Dictionary<string, object> { ["typ"] = "at+jwt" });
    }
}
