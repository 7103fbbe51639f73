using System.Net;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tests.Resources;

namespace TokenServer.Tests.Compat.LifeNome;

/// <summary>seeds/000 "List Samples" and CONTRACTS.md's LifeNome row for GET /samples/.</summary>
public sealed class LifeNomeSamplesTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    [Theory]
    [InlineData("/platform-api/api/core-api/samples/")]
    [InlineData("/platform-api/api/core-api/samples")]
    public async Task NewAccount_SeesEmptyPage_AsInSeed(string path)
    {
        await world.OrganizationAsync("lab-a");
        var curator = await world.UserAsync("curator@a.org", "curator", "lab-a");
        await world.ChainAsync(curator, isPublic: true);
        var newcomer = (await world.Client.RegisterAndLoginAsync("new@example.org")).AccessToken;

        using var response = await world.SendAsync(HttpMethod.Get, path, newcomer);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"count\":0,\"next\":null,\"previous\":null,\"results\":[]}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Member_SeesOrganizationSamples_PrivateIncluded()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");
        var chain = await world.ChainAsync(researcher, isPublic: false);

        var page = await world.GetJsonAsync("/platform-api/api/core-api/samples/", researcher);

        Assert.Equal(1, page.GetProperty("count").GetInt32());
        Assert.Equal(chain.Sample, page.GetProperty("results")[0].GetProperty("accession").GetString());
    }

    [Fact]
    public async Task NoToken_Returns401InDrfShape()
    {
        using var response = await world.Client.GetAsync("/platform-api/api/core-api/samples/");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"detail\":\"Authentication credentials were not provided.\"}", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")]
    public async Task BadToken_Returns401TokenNotValid(string token)
    {
        using var response = await world.SendAsync(HttpMethod.Get, "/platform-api/api/core-api/samples/", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(
            "{\"detail\":\"Given token not valid for any token type\",\"code\":\"token_not_valid\",\"messages\":[{\"token_class\":\"AccessToken\",\"token_type\":\"access\",\"message\":\"Token is invalid or expired\"}]}",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ExpiredToken_Returns401TokenNotValid()
    {
        var token = (await world.Client.RegisterAndLoginAsync("late@example.org")).AccessToken;
        world.Factory.Time.Advance(TimeSpan.FromHours(1));

        using var response = await world.SendAsync(HttpMethod.Get, "/platform-api/api/core-api/samples/", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("token_not_valid", (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }
}
