using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>Paging, filters, search, checklists, and the SeqDB seed's public-endpoint list.</summary>
public sealed class ResourceListTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    private async Task<string> CuratorAsync()
    {
        await world.OrganizationAsync("lab-a");
        return await world.UserAsync("curator@a.org", "curator", "lab-a");
    }

    [Fact]
    public async Task SeqDbPublicEndpoints_AllAnswerWithoutToken()
    {
        var chain = await world.ChainAsync(await CuratorAsync(), isPublic: true);
        await world.AttachAsync(await world.AdminAsync(), chain.Run, "reads.fastq", "@r\nACGT\n+\nIIII\n"u8.ToArray());

        // seeds/001 "Public endpoints", in the seed's order.
        string[] paths =
        [
            "/api/v1/projects/", $"/api/v1/projects/{chain.Project}",
            "/api/v1/samples/", $"/api/v1/samples/{chain.Sample}",
            "/api/v1/experiments/", $"/api/v1/experiments/{chain.Experiment}",
            "/api/v1/runs/", $"/api/v1/runs/{chain.Run}", $"/api/v1/runs/{chain.Run}/download",
            $"/api/v1/filereport?accession={chain.Project}",
            "/api/v1/search/?q=soil",
            "/api/v1/checklists/",
            "/api/v1/bulk-submit/template/minimal",
            "/api/v1/health",
        ];
        foreach (var path in paths)
        {
            using var response = await world.Client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task EmptyStore_ListsAreEmptyPages()
    {
        foreach (var kind in new[] { "projects", "samples", "experiments", "runs" })
        {
            var page = await world.GetJsonAsync($"/api/v1/{kind}/");
            JsonAssert.HasExactly(page, "count", "next", "previous", "results");
            Assert.Equal(0, page.GetProperty("count").GetInt32());
            Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);
            Assert.Equal(JsonValueKind.Null, page.GetProperty("previous").ValueKind);
            Assert.Equal(0, page.GetProperty("results").GetArrayLength());
        }
    }

    [Fact]
    public async Task Paging_HasAbsoluteLinks_StableOrder_AndCapsPageSize()
    {
        var curator = await CuratorAsync();
        for (var i = 0; i < 25; i++)
        {
            await world.CreateAsync("/api/v1/projects/", curator, new { title = $"Project {i}", is_public = true });
        }

        var first = await world.GetJsonAsync("/api/v1/projects/?page_size=10");
        Assert.Equal(25, first.GetProperty("count").GetInt32());
        Assert.Equal(10, first.GetProperty("results").GetArrayLength());
        Assert.Equal("http://localhost/api/v1/projects/?page_size=10&page=2", first.GetProperty("next").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("previous").ValueKind);
        Assert.Equal("PRJ000001", first.GetProperty("results")[0].GetProperty("accession").GetString());

        var last = await world.GetJsonAsync("/api/v1/projects/?page_size=10&page=3");
        Assert.Equal(5, last.GetProperty("results").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next").ValueKind);
        Assert.Equal("http://localhost/api/v1/projects/?page_size=10&page=2", last.GetProperty("previous").GetString());
        Assert.Equal("PRJ000025", last.GetProperty("results")[4].GetProperty("accession").GetString());

        var beyond = await world.GetJsonAsync("/api/v1/projects/?page_size=10&page=9");
        Assert.Equal(0, beyond.GetProperty("results").GetArrayLength());
        Assert.Equal(25, beyond.GetProperty("count").GetInt32());

        // One paging rule for every list (docs/resources.md, "Lists"): above 100 is refused, not capped.
        var refused = await world.GetJsonAsync("/api/v1/projects/?page_size=1000", expected: HttpStatusCode.BadRequest);
        Assert.Equal("Use a page size from 1 to 100, for example ?page_size=50.", refused.GetProperty("errors").GetProperty("page_size")[0].GetString());

        var defaults = await world.GetJsonAsync("/api/v1/projects/");
        Assert.Equal(20, defaults.GetProperty("results").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/projects/?page=0")]
    [InlineData("/api/v1/projects/?page=abc")]
    [InlineData("/api/v1/projects/?page=99999999999")]
    [InlineData("/api/v1/projects/?page_size=-1")]
    [InlineData("/api/v1/samples/?project=PRJ1")]
    [InlineData("/api/v1/experiments/?sample=nonsense")]
    [InlineData("/api/v1/runs/?experiment=SAM000001")]
    [InlineData("/api/v1/filereport")]
    [InlineData("/api/v1/filereport?accession=%00%27;drop")]
    [InlineData("/api/v1/filereport?accession=PRJ000001&format=xml")]
    [InlineData("/api/v1/search/")]
    [InlineData("/api/v1/search/?q=")]
    public async Task MalformedQueries_Return400Problem(string path)
    {
        using var response = await world.Client.GetAsync(path);
        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/api/v1/projects/nonsense")]
    [InlineData("/api/v1/projects/PRJ999999")]
    [InlineData("/api/v1/projects/SAM000001")]
    [InlineData("/api/v1/projects/PRJ0000001")]
    [InlineData("/api/v1/projects/PRJ-00001")]
    [InlineData("/api/v1/projects/PRJ99999999999999999999")]
    [InlineData("/api/v1/samples/%E2%98%83")]
    [InlineData("/api/v1/experiments/EXP000000")]
    [InlineData("/api/v1/runs/RUN")]
    [InlineData("/api/v1/runs/RUN000001/download")]
    [InlineData("/api/v1/filereport?accession=RUN000042")]
    [InlineData("/api/v1/checklists/nope")]
    [InlineData("/api/v1/bulk-submit/template/nope")]
    public async Task MalformedOrUnknownAccessions_Return404Problem(string path)
    {
        using var response = await world.Client.GetAsync(path);
        JsonAssert.IsProblem(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ParentFilters_NarrowLists()
    {
        var curator = await CuratorAsync();
        var one = await world.ChainAsync(curator, isPublic: true, title: "One");
        var two = await world.ChainAsync(curator, isPublic: true, title: "Two");

        var samples = await world.GetJsonAsync($"/api/v1/samples/?project={two.Project}");
        Assert.Equal(1, samples.GetProperty("count").GetInt32());
        Assert.Equal(two.Sample, samples.GetProperty("results")[0].GetProperty("accession").GetString());
        Assert.Equal(1, (await world.GetJsonAsync($"/api/v1/experiments/?sample={one.Sample}")).GetProperty("count").GetInt32());
        Assert.Equal(1, (await world.GetJsonAsync($"/api/v1/experiments/?project={one.Project}")).GetProperty("count").GetInt32());
        Assert.Equal(two.Run, (await world.GetJsonAsync($"/api/v1/runs/?experiment={two.Experiment}")).GetProperty("results")[0].GetProperty("accession").GetString());
        Assert.Equal(1, (await world.GetJsonAsync($"/api/v1/runs/?project={one.Project}&sample={one.Sample}")).GetProperty("count").GetInt32());
        Assert.Equal(0, (await world.GetJsonAsync($"/api/v1/runs/?project={one.Project}&sample={two.Sample}")).GetProperty("count").GetInt32());
        Assert.Equal(2, (await world.GetJsonAsync("/api/v1/runs/")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Search_FindsTitlesAttributesAndAccessions_OnlyVisible()
    {
        var curator = await CuratorAsync();
        var open = await world.ChainAsync(curator, isPublic: true, title: "Glacier melt");
        await world.ChainAsync(curator, isPublic: false, title: "Glacier secret");

        var byTitle = await world.GetJsonAsync("/api/v1/search/?q=glacier");
        Assert.Equal(2, byTitle.GetProperty("count").GetInt32());
        JsonAssert.HasExactly(byTitle.GetProperty("results")[0], "accession", "type", "title", "description", "url");
        Assert.Equal(open.Project, byTitle.GetProperty("results")[0].GetProperty("accession").GetString());
        Assert.Equal("sample", byTitle.GetProperty("results")[1].GetProperty("type").GetString());

        Assert.Equal(4, (await world.GetJsonAsync("/api/v1/search/?q=glacier", curator)).GetProperty("count").GetInt32());
        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/search/?q=10CM")).GetProperty("count").GetInt32());

        var byAccession = await world.GetJsonAsync($"/api/v1/search/?q={open.Run}");
        Assert.Equal(1, byAccession.GetProperty("count").GetInt32());
        Assert.Equal($"http://localhost:8000/api/v1/runs/{open.Run}", byAccession.GetProperty("results")[0].GetProperty("url").GetString());

        var paged = await world.GetJsonAsync("/api/v1/search/?q=glacier&page_size=1&page=2", curator);
        Assert.Equal(4, paged.GetProperty("count").GetInt32());
        Assert.Equal("project", paged.GetProperty("results")[0].GetProperty("type").GetString());
        Assert.NotEqual(open.Project, paged.GetProperty("results")[0].GetProperty("accession").GetString());

        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/search/?q=%25")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Checklists_ListedWithFields_AndTemplateIsCsvHeader()
    {
        var page = await world.GetJsonAsync("/api/v1/checklists/");
        JsonAssert.HasExactly(page, "count", "next", "previous", "results");
        var minimal = page.GetProperty("results").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "minimal");
        JsonAssert.HasExactly(minimal, "id", "name", "description", "fields");
        JsonAssert.HasExactly(minimal.GetProperty("fields")[0], "name", "required", "description", "allowed_values", "numeric");

        using var template = await world.Client.GetAsync("/api/v1/bulk-submit/template/minimal");
        Assert.Equal(HttpStatusCode.OK, template.StatusCode);
        Assert.Equal("text/csv", template.Content.Headers.ContentType?.MediaType);
        Assert.Equal("title,description,organism,taxon_id,collection_date,geographic_location,strain\r\n", await template.Content.ReadAsStringAsync());
    }
}
