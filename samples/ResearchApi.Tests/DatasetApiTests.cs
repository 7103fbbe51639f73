using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using TokenServer.Testing;

namespace ResearchApi.Tests;

/// <summary>The sample API's own tests: real TokenServer tokens, from the kit's in-process server, validated through discovery and JWKS.</summary>
public sealed class DatasetApiTests : IDisposable
{
    private readonly TestTokenServer tokenServer = new();
    private readonly WebApplicationFactory<Program> api;

    public DatasetApiTests() =>
        api = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureTestServices(s => s.TrustTestTokenServer(tokenServer)));

    public void Dispose()
    {
        api.Dispose();
        tokenServer.Dispose();
    }

    private async Task<HttpResponseMessage> PostAsync(string? token, string title = "Soil samples 2026")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/datasets") { Content = JsonContent.Create(new { title }) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await api.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task Reads_ArePublic()
    {
        using var response = await api.CreateClient().GetAsync("/datasets");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Write_WithoutToken_Is401_WithAForgedOne401_WithAViewers403()
    {
        using var anonymous = await PostAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var viewer = await tokenServer.CreateAccountAsync("viewer@example.org", role: "viewer");
        var token = await tokenServer.GetTokenAsync(viewer);
        using var forbidden = await PostAsync(token);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        var parts = token.Split('.');
        using var forged = await PostAsync($"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    [Theory]
    [InlineData(Dialect.Native)]
    [InlineData(Dialect.LifeNome)]
    [InlineData(Dialect.TrackHub)]
    [InlineData(Dialect.NeMO)]
    [InlineData(Dialect.TetraScience)]
    public async Task Write_WithAResearchersToken_FromAnyDialect_CreatesTheDataset(Dialect dialect)
    {
        var researcher = await tokenServer.CreateAccountAsync("ada@example.org", role: "researcher", username: "ada");
        using var created = await PostAsync(await tokenServer.GetTokenAsync(researcher, dialect));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var dataset = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(researcher.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), dataset.GetProperty("createdBy").GetString());
        Assert.Contains("Soil samples 2026", await api.CreateClient().GetStringAsync("/datasets"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_NeedsACurator_AndAServiceUserActsWithItsRole()
    {
        await tokenServer.CreateOrganizationAsync("soil-lab");
        var uploader = await tokenServer.CreateServiceUserAsync("soil-lab", "pipeline-uploader", role: "researcher");
        using var created = await PostAsync(await tokenServer.GetTokenAsync(uploader));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var researcher = await tokenServer.CreateAccountAsync("ada@example.org");
        var curator = await tokenServer.CreateAccountAsync("cure@example.org", role: "curator");
        using var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await tokenServer.GetTokenAsync(researcher));
        using (var refused = await client.DeleteAsync("/datasets/1"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await tokenServer.GetTokenAsync(curator));
        using var deleted = await client.DeleteAsync("/datasets/1");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }
}
