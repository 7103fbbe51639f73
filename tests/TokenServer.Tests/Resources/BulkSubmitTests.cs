using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>POST /api/v1/bulk-submit/: CSV of samples against a checklist, all or nothing.</summary>
public sealed class BulkSubmitTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    private async Task<(string Token, string Project)> ProjectAsync(string role = "researcher")
    {
        await world.OrganizationAsync("lab-a");
        var token = await world.UserAsync($"{role}@a.org", role, "lab-a");
        var admin = await world.AdminAsync();
        return (token, await world.CreateAsync("/api/v1/projects/", admin, new { title = "Bulk" }, orgSlug: "lab-a"));
    }

    private async Task<HttpResponseMessage> SubmitAsync(string token, string query, string csv)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/bulk-submit/?{query}")
        {
            Content = new StringContent(csv, Encoding.UTF8, "text/csv"),
        }.WithBearer(token);
        return await world.Client.SendAsync(request);
    }

    [Fact]
    public async Task ValidCsv_CreatesEverySample()
    {
        var (token, project) = await ProjectAsync();
        var csv = "title,description,organism,taxon_id,collection_date,geographic_location,strain\r\n"
            + "Leaf A,\"Sunny side, top\",Arabidopsis thaliana,3702,2024-05-01,Germany,Col-0\r\n"
            + "Leaf B,,Arabidopsis thaliana,3702,2024-05-02,\"Germany\",\r\n";

        using var response = await SubmitAsync(token, $"project={project}&checklist_id=minimal", csv);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "created", "accessions");
        Assert.Equal(2, json.GetProperty("created").GetInt32());
        var first = await world.GetJsonAsync($"/api/v1/samples/{json.GetProperty("accessions")[0].GetString()}", token);
        Assert.Equal("Sunny side, top", first.GetProperty("description").GetString());
        Assert.Equal("minimal", first.GetProperty("checklist").GetString());
        Assert.Equal("Col-0", first.GetProperty("attributes").GetProperty("strain").GetString());
        Assert.Equal(2, (await world.GetJsonAsync($"/api/v1/samples/?project={project}", token)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task MultipartUpload_IsAcceptedToo()
    {
        var (token, project) = await ProjectAsync();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("title,organism,collection_date,geographic_location\nS1,soil metagenome,2024,Peru\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "samples.csv");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/bulk-submit/?project={project}&checklist_id=minimal") { Content = form }.WithBearer(token);

        using var response = await world.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task BadRows_RejectWholeFile_WithRowAndColumn()
    {
        var (token, project) = await ProjectAsync();
        var csv = "title,organism,taxon_id,collection_date,geographic_location,host_sex,tissue\n"
            + "Good,Homo sapiens,9606,2024-01-01,Spain,female,blood\n"
            + ",Homo sapiens,9606,2024-01-01,Spain,female,blood\n"
            + "Bad sex,Homo sapiens,abc,2024-01-01,Spain,unknown,blood\n"
            + "Short row,Homo sapiens\n";

        using var response = await SubmitAsync(token, $"project={project}&checklist_id=human", csv);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Contains((3, "title"), errors);
        Assert.Contains((4, "taxon_id"), errors);
        Assert.Contains((4, "host_sex"), errors);
        Assert.Contains((5, null), errors);
        Assert.DoesNotContain(errors, e => e.Item1 == 2);
        Assert.Equal(0, (await world.GetJsonAsync($"/api/v1/samples/?project={project}", token)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task BadHeader_NamesUnknownAndMissingColumns()
    {
        var (token, project) = await ProjectAsync();

        using var response = await SubmitAsync(token, $"project={project}&checklist_id=environmental", "title,organism,colour\nx,y,red\n");

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Contains((1, "colour"), errors);
        Assert.Contains((1, "latitude"), errors);
    }

    [Theory]
    [InlineData("checklist_id=minimal", HttpStatusCode.BadRequest)]
    [InlineData("project=PRJ000001&checklist_id=nope", HttpStatusCode.BadRequest)]
    [InlineData("project=PRJ999999&checklist_id=minimal", HttpStatusCode.NotFound)]
    [InlineData("project=junk&checklist_id=minimal", HttpStatusCode.BadRequest)]
    public async Task MissingOrUnknownParameters_AreClientErrors(string query, HttpStatusCode expected)
    {
        var (token, _) = await ProjectAsync();

        using var response = await SubmitAsync(token, query, "title,organism\nx,y\n");

        JsonAssert.IsProblem(response, expected);
    }

    [Fact]
    public async Task EmptyCsvAndViewer_AreRejected()
    {
        var (token, project) = await ProjectAsync();
        using (var empty = await SubmitAsync(token, $"project={project}&checklist_id=minimal", ""))
        {
            JsonAssert.IsProblem(empty, HttpStatusCode.BadRequest);
        }

        using (var headerOnly = await SubmitAsync(token, $"project={project}&checklist_id=minimal", "title,organism,collection_date,geographic_location\n"))
        {
            JsonAssert.IsProblem(headerOnly, HttpStatusCode.BadRequest);
        }

        var viewer = await world.UserAsync("viewer@a.org", "viewer", "lab-a");
        using var denied = await SubmitAsync(viewer, $"project={project}&checklist_id=minimal", "title,organism\nx,y\n");
        JsonAssert.IsProblem(denied, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task UnterminatedQuotedCell_OfSeveralMegabytes_AnswersClientErrorQuickly_NamingTheLine()
    {
        var (token, project) = await ProjectAsync();
        var csv = "title,organism,collection_date,geographic_location\nS1,soil,2024,Peru\nS2,\"" + new string('a', 4 * 1024 * 1024) + "\n";

        // Generous: a linear parser answers in well under a second; the quadratic one took minutes.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/bulk-submit/?project={project}&checklist_id=minimal")
        {
            Content = new StringContent(csv, Encoding.UTF8, "text/csv"),
        }.WithBearer(token);
        using var response = await world.Client.SendAsync(request, timeout.Token);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var json = await response.ReadJsonAsync();
        Assert.Contains("line 3", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
        JsonAssert.HasExactly(error, "row", "column", "message");
        Assert.Equal(3, error.GetProperty("row").GetInt32());
        Assert.Contains("4000", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await world.GetJsonAsync($"/api/v1/samples/?project={project}", token)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task RowWithMoreCellsThanTheCap_Answers400NamingTheLine()
    {
        var (token, project) = await ProjectAsync();
        var csv = "title,organism,collection_date,geographic_location\nS1,soil,2024,Peru\n" + string.Join(',', Enumerable.Repeat("x", 51)) + "\n";

        using var response = await SubmitAsync(token, $"project={project}&checklist_id=minimal", csv);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var json = await response.ReadJsonAsync();
        Assert.Contains("line 3", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
        Assert.Equal(3, error.GetProperty("row").GetInt32());
        Assert.Contains("at most 50 cells", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StrayQuote_Answers400NamingTheLine()
    {
        var (token, project) = await ProjectAsync();

        using var response = await SubmitAsync(token, $"project={project}&checklist_id=minimal",
            "title,organism,collection_date,geographic_location\nS1,soil,2024,Peru\nS\"2,soil,2024,Peru\n");

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var json = await response.ReadJsonAsync();
        Assert.Contains("line 3", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, Assert.Single(json.GetProperty("errors").EnumerateArray()).GetProperty("row").GetInt32());
    }
}

/// <summary>The operator's caps on bulk submission (TokenServer:Resources:BulkMax*).</summary>
public sealed class BulkSubmitLimitTests : IDisposable
{
    private readonly ResourceWorld world = new(settings =>
    {
        settings["TokenServer:Resources:BulkMaxRows"] = "3";
        settings["TokenServer:Resources:BulkMaxCellLength"] = "100";
    });

    public void Dispose() => world.Dispose();

    private async Task<(string Token, string Project)> ProjectAsync()
    {
        await world.OrganizationAsync("lab-a");
        var token = await world.UserAsync("researcher@a.org", "researcher", "lab-a");
        return (token, await world.CreateAsync("/api/v1/projects/", await world.AdminAsync(), new { title = "Bulk" }, orgSlug: "lab-a"));
    }

    private async Task<HttpResponseMessage> SubmitAsync(string token, string project, string csv)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/bulk-submit/?project={project}&checklist_id=minimal")
        {
            Content = new StringContent(csv, Encoding.UTF8, "text/csv"),
        }.WithBearer(token);
        return await world.Client.SendAsync(request);
    }

    [Fact]
    public async Task MoreRowsThanTheCap_Answers413NamingTheFirstLineOver()
    {
        var (token, project) = await ProjectAsync();
        const string Header = "title,organism,collection_date,geographic_location\n";

        using (var atCap = await SubmitAsync(token, project, Header + "S1,soil,2024,Peru\nS2,soil,2024,Peru\nS3,soil,2024,Peru\n"))
        {
            Assert.Equal(HttpStatusCode.Created, atCap.StatusCode);
        }

        using var overCap = await SubmitAsync(token, project, Header + "S1,soil,2024,Peru\nS2,soil,2024,Peru\nS3,soil,2024,Peru\nS4,soil,2024,Peru\n");

        JsonAssert.IsProblem(overCap, HttpStatusCode.RequestEntityTooLarge);
        var detail = (await overCap.ReadJsonAsync()).GetProperty("detail").GetString();
        Assert.Contains("line 5", detail, StringComparison.Ordinal);
        Assert.Contains("BulkMaxRows", detail, StringComparison.Ordinal);
        Assert.Equal(3, (await world.GetJsonAsync($"/api/v1/samples/?project={project}", token)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task CellLongerThanTheCap_Answers400NamingTheLine()
    {
        var (token, project) = await ProjectAsync();

        using var response = await SubmitAsync(token, project,
            "title,organism,collection_date,geographic_location\nS1,soil,2024,Peru\n\"" + new string('t', 101) + "\",soil,2024,Peru\n");

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var json = await response.ReadJsonAsync();
        Assert.Contains("line 3", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
        Assert.Equal(3, error.GetProperty("row").GetInt32());
        Assert.Contains("BulkMaxCellLength", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
