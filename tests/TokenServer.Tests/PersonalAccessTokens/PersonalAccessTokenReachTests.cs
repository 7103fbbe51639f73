using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tests.Resources;

namespace TokenServer.Tests.PersonalAccessTokens;

/// <summary>
/// A personal access token acts with its owner's role narrowed to its scopes
/// (PersonalAccessTokens/PersonalAccessTokenScopes.cs): an admin's read or write token is not an
/// admin, so it sees only what a non-member sees (Resources/ResourceAccess.cs) and no admin route.
/// </summary>
public sealed class PersonalAccessTokenReachTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    private async Task<string> TokenAsync(string bearer, params string[] scopes)
    {
        using var response = await world.Client.PostJsonWithTokenAsync("/api/v1/auth/personal-access-tokens", new { name = "script", scopes }, bearer);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task AdminsReadToken_CannotSeeOtherOrganizationsPrivateRecords_NorCallAdminRoutes()
    {
        await world.OrganizationAsync("lab-a");
        var member = await world.UserAsync("member@a.org", "researcher", "lab-a");
        var project = await world.CreateAsync("/api/v1/projects/", member, new { title = "Private soil", description = "Not yet released", is_public = false }, "lab-a");
        var admin = await world.AdminAsync();
        var read = await TokenAsync(admin, "read");

        // The admin's own login sees the private record; the admin's read token does not.
        using (var asAdmin = await world.Client.GetWithTokenAsync($"/api/v1/projects/{project}", admin))
        {
            Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        }

        using var hidden = await world.Client.GetWithTokenAsync($"/api/v1/projects/{project}", read);
        JsonAssert.IsProblem(hidden, HttpStatusCode.NotFound);
        var listed = await (await world.Client.GetWithTokenAsync("/api/v1/projects/", read)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("Private soil", listed, StringComparison.Ordinal);

        using var adminRoute = await world.Client.GetWithTokenAsync("/api/v1/admin/accounts", read);
        JsonAssert.IsProblem(adminRoute, HttpStatusCode.Forbidden);
        using var adminWrite = await world.Client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug = "lab-b", name = "lab-b" }, read);
        JsonAssert.IsProblem(adminWrite, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AdminsWriteToken_CannotReachAdminRoutes()
    {
        var admin = await world.AdminAsync();
        var write = await TokenAsync(admin, "write");

        using var list = await world.Client.GetWithTokenAsync("/api/v1/admin/accounts", write);
        using var organization = await world.Client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug = "lab-c", name = "lab-c" }, write);
        using var rotate = await world.Client.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, write);
        using var patch = await world.Client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/api/v1/admin/accounts/1") { Content = JsonContent.Create(new { role = "viewer" }) }.WithBearer(write));

        JsonAssert.IsProblem(list, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(organization, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(rotate, HttpStatusCode.Forbidden);
        JsonAssert.IsProblem(patch, HttpStatusCode.Forbidden);
        using var stillAdmin = await world.Client.GetWithTokenAsync("/api/v1/admin/accounts", admin);
        Assert.Equal(HttpStatusCode.OK, stillAdmin.StatusCode);
    }
}
