using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Users;

/// <summary>CONTRACTS.md admin and organization rows, the bootstrap admin, and what the store keeps.</summary>
public sealed class AdministrationTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public AdministrationTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) }.WithBearer(token);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task BootstrapAdmin_CanLogIn_AndHasTheAdminRole()
    {
        var admin = await client.LoginAdminAsync();

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", admin.AccessToken);

        Assert.Equal("admin", (await me.ReadJsonAsync()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task ListAccounts_FindsByQuery_Paged()
    {
        await client.RegisterAsync("findme@example.org");
        await client.RegisterAsync("other@example.org");
        var admin = await client.LoginAdminAsync();

        using var response = await client.GetWithTokenAsync("/api/v1/admin/accounts?q=FINDME", admin.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "count", "next", "previous", "results");
        Assert.Equal(1, json.GetProperty("count").GetInt32());
        Assert.Equal("findme@example.org", json.GetProperty("results")[0].GetProperty("email").GetString());
    }

    [Fact]
    public async Task AdminRoutes_RefuseNonAdmins()
    {
        var user = await client.RegisterAndLoginAsync("plain@example.org");

        using var list = await client.GetWithTokenAsync("/api/v1/admin/accounts", user.AccessToken);
        using var anonymous = await client.GetAsync("/api/v1/admin/accounts");

        JsonAssert.IsProblem(list, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(anonymous, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DisablingAnAccount_RevokesItsTokens_AndBlocksLogin()
    {
        var created = await client.RegisterAsync("disable@example.org");
        var user = await client.LoginAsync("disable@example.org");
        var admin = await client.LoginAdminAsync();

        using var patch = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}", admin.AccessToken, new { status = "disabled" });

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("disabled", (await patch.ReadJsonAsync()).GetProperty("status").GetString());
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", user.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "disable@example.org", password = Api.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
    }

    [Fact]
    public async Task PatchAccount_WithUnknownRole_Returns400_AndUnknownId404()
    {
        var created = await client.RegisterAsync("role@example.org");
        var admin = await client.LoginAdminAsync();

        using var bad = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}", admin.AccessToken, new { role = "emperor" });
        using var missing = await SendAsync(HttpMethod.Patch, "/api/v1/admin/accounts/999999", admin.AccessToken, new { role = "curator" });
        using var good = await SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}", admin.AccessToken, new { role = "curator" });

        JsonAssert.IsProblem(bad, HttpStatusCode.BadRequest);
        JsonAssert.IsProblem(missing, HttpStatusCode.NotFound);
        Assert.Equal("curator", (await good.ReadJsonAsync()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task Lockout_ThenAdminUnlock_LetsTheRightPasswordIn()
    {
        var created = await client.RegisterAsync("locked@example.org");
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "locked@example.org", password = "wrong-password" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var locked = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "locked@example.org", password = Api.Password }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        }

        var admin = await client.LoginAdminAsync();
        using var unlock = await SendAsync(HttpMethod.Post, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}/unlock", admin.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, unlock.StatusCode);

        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "locked@example.org", password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task AdminPasswordReset_RevokesEverySession_AndTheNewPasswordWorks()
    {
        var created = await client.RegisterAsync("reset@example.org");
        var user = await client.LoginAsync("reset@example.org");
        var admin = await client.LoginAdminAsync();

        using var weak = await SendAsync(HttpMethod.Post, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}/password", admin.AccessToken, new { new_password = "short" });
        using var reset = await SendAsync(HttpMethod.Post, $"/api/v1/admin/accounts/{created.GetProperty("id").GetInt64()}/password", admin.AccessToken, new { new_password = "brand-new-password" });

        JsonAssert.IsProblem(weak, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", user.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        await client.LoginAsync("reset@example.org", "brand-new-password");
    }

    [Fact]
    public async Task Organizations_AdminCreates_OrgAdminManagesMembers_OutsidersSeeNothing()
    {
        var admin = await client.LoginAdminAsync();
        var lead = await client.RegisterAndLoginAsync("lead@example.org");
        var member = await client.RegisterAndLoginAsync("member@example.org");
        var outsider = await client.RegisterAndLoginAsync("outsider@example.org");

        using var create = await SendAsync(HttpMethod.Post, "/api/v1/admin/organizations", admin.AccessToken, new { slug = "genomics-lab", name = "Genomics Lab" });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        JsonAssert.HasExactly(await create.ReadJsonAsync(), "id", "slug", "name", "sso_enabled");
        using var duplicate = await SendAsync(HttpMethod.Post, "/api/v1/admin/organizations", admin.AccessToken, new { slug = "genomics-lab", name = "Again" });
        JsonAssert.IsProblem(duplicate, HttpStatusCode.Conflict);

        using (var addLead = await SendAsync(HttpMethod.Post, "/api/v1/organizations/genomics-lab/members", admin.AccessToken, new { email = "lead@example.org", role = "admin" }))
        {
            Assert.Equal(HttpStatusCode.Created, addLead.StatusCode);
        }

        using (var addMember = await SendAsync(HttpMethod.Post, "/api/v1/organizations/genomics-lab/members", lead.AccessToken, new { email = "member@example.org", role = "member" }))
        {
            Assert.Equal(HttpStatusCode.Created, addMember.StatusCode);
        }

        using var list = await client.GetWithTokenAsync("/api/v1/organizations/genomics-lab/members", member.AccessToken);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(2, (await list.ReadJsonAsync()).GetArrayLength());

        using var memberAdds = await SendAsync(HttpMethod.Post, "/api/v1/organizations/genomics-lab/members", member.AccessToken, new { email = "outsider@example.org" });
        JsonAssert.IsProblem(memberAdds, HttpStatusCode.Forbidden);
        using var outsiderLooks = await client.GetWithTokenAsync("/api/v1/organizations/genomics-lab/members", outsider.AccessToken);
        JsonAssert.IsProblem(outsiderLooks, HttpStatusCode.NotFound);

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", member.AccessToken);
        var organizations = (await me.ReadJsonAsync()).GetProperty("organizations");
        Assert.Equal("genomics-lab", organizations[0].GetProperty("slug").GetString());
        Assert.Equal("member", organizations[0].GetProperty("role").GetString());

        var memberId = (await (await client.GetWithTokenAsync("/api/v1/auth/me", member.AccessToken)).ReadJsonAsync()).GetProperty("id").GetInt64();
        using var remove = await SendAsync(HttpMethod.Delete, $"/api/v1/organizations/genomics-lab/members/{memberId}", lead.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        using var gone = await client.GetWithTokenAsync("/api/v1/organizations/genomics-lab/members", member.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Store_KeepsOnlyHashes_OfPasswordsAndRefreshTokens()
    {
        var tokens = await client.RegisterAndLoginAsync("secret@example.org");

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var account = await db.Accounts.SingleAsync(a => a.Email == "secret@example.org");
        Assert.StartsWith("$2", account.PasswordHash, StringComparison.Ordinal);
        Assert.DoesNotContain(Api.Password, account.PasswordHash, StringComparison.Ordinal);
        Assert.False(await db.RefreshTokens.AnyAsync(t => t.TokenHash == tokens.RefreshToken));
        var key = await db.SigningKeys.FirstAsync();
        Assert.DoesNotContain("\"d\"", key.PublicJwk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangedWorkFactor_UpgradesTheHash_AtTheNextLogin()
    {
        await client.RegisterAsync("upgrade@example.org");
        using var stronger = new TokenServerFactory();
        stronger.Settings["TokenServer:Passwords:WorkFactor"] = "5";
        // A second server on the same store, as after an operator raised the cost and restarted.
        var strongerFactory = stronger.WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:TokenServer", factory.Store.ConnectionString));

        var strongerClient = strongerFactory.CreateClient();
        await strongerClient.LoginAsync("upgrade@example.org");

        await using var scope = strongerFactory.Services.CreateAsyncScope();
        var hash = await scope.ServiceProvider.GetRequiredService<TokenServerDb>().Accounts.Where(a => a.Email == "upgrade@example.org").Select(a => a.PasswordHash).SingleAsync();
        Assert.Contains("$05$", hash, StringComparison.Ordinal);
    }

    [Fact]
    public void MisconfiguredServer_DoesNotStart_AndNamesTheKey()
    {
        using var broken = new TokenServerFactory();
        broken.Settings["TokenServer:Passwords:WorkFactor"] = "40";

        var error = Assert.ThrowsAny<Exception>(() => broken.CreateClient());

        Assert.Contains("TokenServer:Passwords:WorkFactor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SwaggerDocument_DescribesTheApi_WithBothAuthorizeSchemes()
    {
        using var ui = await client.GetAsync("/swagger/index.html");
        var document = await client.GetStringAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("\"/api/v1/auth/login\"", document, StringComparison.Ordinal);
        Assert.Contains("\"tokenUrl\": \"/api/v1/auth/token\"", document, StringComparison.Ordinal);
        Assert.Contains("\"bearerFormat\": \"JWT\"", document, StringComparison.Ordinal);
    }
}
