using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.MultiInstance;

/// <summary>Several instances behind one address share everything through the store.</summary>
public sealed class MultiInstanceTests(TwoInstances servers) : IClassFixture<TwoInstances>
{
    private HttpClient A => servers.A;

    private HttpClient B => servers.B;

    [Fact]
    public async Task InstancesStartingTogether_OnANewStore_PublishTheSameSingleKey()
    {
        var onA = (await A.GetFromJsonAsync<System.Text.Json.JsonElement>("/.well-known/jwks.json")).GetProperty("keys");
        var onB = (await B.GetFromJsonAsync<System.Text.Json.JsonElement>("/.well-known/jwks.json")).GetProperty("keys");

        Assert.Equal(onA[0].GetProperty("kid").GetString(), onB[0].GetProperty("kid").GetString());
        Assert.Equal(onA.GetArrayLength(), onB.GetArrayLength());
    }

    [Fact]
    public async Task TokenFromA_WorksOnB()
    {
        var tokens = await A.RegisterAndLoginAsync("ab@example.org");

        using var me = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task LogoutOnA_IsHonouredByB_WithinOneSecond()
    {
        var tokens = await A.RegisterAndLoginAsync("logout-ab@example.org");
        using (var before = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var logout = await A.PostJsonWithTokenAsync("/api/v1/auth/logout", new { }, tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        var status = HttpStatusCode.OK;
        while (clock.Elapsed < TimeSpan.FromSeconds(1) && status == HttpStatusCode.OK)
        {
            using var me = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
            status = me.StatusCode;
            await Task.Delay(25);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task RoleChangeOnA_EndsTheSessionOnB_WithinOneSecond_AndANewLoginShowsTheRole()
    {
        var created = await A.RegisterAsync("role-ab@example.org");
        var tokens = await A.LoginAsync("role-ab@example.org");
        var admin = await A.LoginAsync(TwoInstances.AdminEmail, TwoInstances.AdminPassword);
        using (var before = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal("researcher", (await before.ReadJsonAsync()).GetProperty("role").GetString());
        }

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}") { Content = JsonContent.Create(new { role = "curator" }) }.WithBearer(admin.AccessToken))
        using (var patched = await A.SendAsync(patch))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        // docs/security.md "Account changes end sessions"; B reads the revocation by its store-assigned number.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnBWithinOneSecondAsync(tokens.AccessToken));
        var again = await B.LoginAsync("role-ab@example.org");
        using var me = await A.GetWithTokenAsync("/api/v1/auth/me", again.AccessToken);
        Assert.Equal("curator", (await me.ReadJsonAsync()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task KeyWithdrawnOnA_FailsOnB_WithinOneSecond()
    {
        var tokens = await A.RegisterAndLoginAsync("withdraw-ab@example.org");
        var admin = await A.LoginAsync(TwoInstances.AdminEmail, TwoInstances.AdminPassword);
        using (var before = await B.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var kid = TokenServer.Tests.Compat.Jwt.Header(tokens.AccessToken).GetProperty("kid").GetString();
        using (var withdrawn = await A.PostJsonWithTokenAsync($"/api/v1/admin/keys/{kid}/withdraw", new { }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnBWithinOneSecondAsync(tokens.AccessToken));

        // B signs with the key A created in its place, and A accepts it.
        var fresh = await B.LoginAsync("withdraw-ab@example.org");
        using var onA = await A.GetWithTokenAsync("/api/v1/auth/me", fresh.AccessToken);
        Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
    }

    private async Task<HttpStatusCode> StatusOnBWithinOneSecondAsync(string token)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var me = await B.GetWithTokenAsync("/api/v1/auth/me", token);
            status = me.StatusCode;
            if (status == HttpStatusCode.Unauthorized)
            {
                break;
            }

            await Task.Delay(25);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(1));

        return status;
    }

    [Fact]
    public async Task ConcurrentRefreshOnAAndB_HasExactlyOneWinner()
    {
        for (var round = 0; round < 5; round++)
        {
            var tokens = await A.RegisterAndLoginAsync($"race{round}@example.org");

            var responses = await Task.WhenAll(
                A.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }),
                B.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }));

            Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
            foreach (var r in responses)
            {
                r.Dispose();
            }
        }
    }

    [Fact]
    public async Task ReuseDetectedOnB_RevokesTheSessionOnA()
    {
        var tokens = await A.RegisterAndLoginAsync("reuse-ab@example.org");
        using var first = await A.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        var rotated = await first.ReadJsonAsync();

        using var reuse = await B.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);

        using var next = await A.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = rotated.GetProperty("refresh_token").GetString() });
        Assert.Equal(HttpStatusCode.Unauthorized, next.StatusCode);
    }

    [Fact]
    public async Task KeyRotatedOnA_IsUsedByB()
    {
        var admin = await A.LoginAsync(TwoInstances.AdminEmail, TwoInstances.AdminPassword);
        using var rotate = await A.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var kid = (await rotate.ReadJsonAsync()).GetProperty("kid").GetString();

        // The new key signs once PublishLead (3 s here) has passed; B has reloaded it by then.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var fromB = await B.LoginAsync(TwoInstances.AdminEmail, TwoInstances.AdminPassword);

        Assert.Equal(kid, new JsonWebToken(fromB.AccessToken).Kid);
        using var onA = await A.GetWithTokenAsync("/api/v1/auth/me", fromB.AccessToken);
        Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
    }

    [Fact]
    public async Task PersonalAccessTokenRevokedOnA_IsRefusedByB_WithinOneSecond()
    {
        var login = await A.RegisterAndLoginAsync("pat-ab@example.org");
        using var created = await A.PostJsonWithTokenAsync("/api/v1/auth/personal-access-tokens", new { name = "pipeline", scopes = new[] { "read" } }, login.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var json = await created.ReadJsonAsync();
        var token = json.GetProperty("token").GetString()!;
        using (var before = await B.GetWithTokenAsync("/api/v1/auth/me", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var revoke = await A.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/personal-access-tokens/{json.GetProperty("id").GetString()}").WithBearer(login.AccessToken)))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        var status = HttpStatusCode.OK;
        while (clock.Elapsed < TimeSpan.FromSeconds(1) && status == HttpStatusCode.OK)
        {
            using var me = await B.GetWithTokenAsync("/api/v1/auth/me", token);
            status = me.StatusCode;
            await Task.Delay(25);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }
}
