using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>Staging uploads, attaching to runs, downloads with ranges, and the file report.</summary>
public sealed class ResourceFileTests : IDisposable
{
    private readonly ResourceWorld world = new(settings => settings["TokenServer:Resources:MaxUploadBytes"] = "1024");

    public void Dispose() => world.Dispose();

    private async Task<(string Curator, ResourceWorld.Chain Chain)> PublicChainAsync()
    {
        await world.OrganizationAsync("lab-a");
        var curator = await world.UserAsync("curator@a.org", "curator", "lab-a");
        return (curator, await world.ChainAsync(curator, isPublic: true));
    }

    [Fact]
    public async Task Staging_UploadListDelete_IsPerAccount()
    {
        await world.OrganizationAsync("lab-a");
        var mine = await world.UserAsync("r1@a.org", "researcher", "lab-a");
        var theirs = await world.UserAsync("r2@a.org", "researcher", "lab-a");
        var content = Encoding.ASCII.GetBytes("@read1\nACGT\n+\nIIII\n");

        using var uploaded = await world.UploadAsync(mine, "reads_R1.fastq", content);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var staged = await uploaded.ReadJsonAsync();
        JsonAssert.HasExactly(staged, "id", "name", "size", "md5", "created_at");
        Assert.Equal("reads_R1.fastq", staged.GetProperty("name").GetString());
        Assert.Equal(content.Length, staged.GetProperty("size").GetInt64());
#pragma warning disable CA5351 // The checksum the API publishes is MD5 (ENA/SRA file reports).
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(content)), staged.GetProperty("md5").GetString());
#pragma warning restore CA5351
        var id = staged.GetProperty("id").GetInt64();

        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/staging/files", mine)).GetProperty("count").GetInt32());
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/staging/files", theirs)).GetProperty("count").GetInt32());

        using (var notTheirs = await world.SendAsync(HttpMethod.Delete, $"/api/v1/staging/files/{id}", theirs))
        {
            JsonAssert.IsProblem(notTheirs, HttpStatusCode.NotFound);
        }

        using (var deleted = await world.SendAsync(HttpMethod.Delete, $"/api/v1/staging/files/{id}", mine))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/staging/files", mine)).GetProperty("count").GetInt32());
        Assert.Empty(Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Staging_RespectsSizeLimit_With413()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");

        using (var atLimit = await world.UploadAsync(researcher, "exact.bin", new byte[1024]))
        {
            Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
        }

        using (var tooLarge = await world.UploadAsync(researcher, "big.bin", new byte[1025]))
        {
            JsonAssert.IsProblem(tooLarge, HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("MaxUploadBytes", (await tooLarge.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/staging/files", researcher)).GetProperty("count").GetInt32());
        Assert.Single(Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Staging_RejectsNonMultipartAndViewers()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");
        var viewer = await world.UserAsync("v@a.org", "viewer", "lab-a");

        using (var json = await world.SendAsync(HttpMethod.Post, "/api/v1/staging/files", researcher, new { file = "x" }))
        {
            JsonAssert.IsProblem(json, HttpStatusCode.UnsupportedMediaType);
        }

        using var denied = await world.UploadAsync(viewer, "x.txt", [1, 2, 3]);
        JsonAssert.IsProblem(denied, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Download_StreamsWholeFileAndRanges()
    {
        var (curator, chain) = await PublicChainAsync();
        var content = Encoding.ASCII.GetBytes("0123456789abcdefghij");
        await world.AttachAsync(curator, chain.Run, "reads.fastq", content);

        var run = await world.GetJsonAsync($"/api/v1/runs/{chain.Run}");
        var file = run.GetProperty("files")[0];
        JsonAssert.HasExactly(file, "name", "size", "md5", "url");
        Assert.Equal($"http://localhost:8000/api/v1/runs/{chain.Run}/download?file=reads.fastq", file.GetProperty("url").GetString());

        using (var whole = await world.Client.GetAsync($"/api/v1/runs/{chain.Run}/download"))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync());
            Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());
            Assert.Equal("reads.fastq", whole.Content.Headers.ContentDisposition?.FileName);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{chain.Run}/download?file=reads.fastq");
        request.Headers.Range = new RangeHeaderValue(5, 9);
        using var part = await world.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("bytes 5-9/20", part.Content.Headers.ContentRange?.ToString());
        Assert.Equal("56789", await part.Content.ReadAsStringAsync());

        using var unsatisfiable = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{chain.Run}/download");
        unsatisfiable.Headers.Range = new RangeHeaderValue(100, 200);
        using var outside = await world.Client.SendAsync(unsatisfiable);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, outside.StatusCode);

        using var missing = await world.Client.GetAsync($"/api/v1/runs/{chain.Run}/download?file=other.fastq");
        JsonAssert.IsProblem(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Download_OfPrivateRun_Is404ToAnonymous()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");
        var chain = await world.ChainAsync(researcher, isPublic: false);
        await world.AttachAsync(researcher, chain.Run, "secret.fastq", [1, 2, 3]);

        using var anonymous = await world.Client.GetAsync($"/api/v1/runs/{chain.Run}/download");
        JsonAssert.IsProblem(anonymous, HttpStatusCode.NotFound);
        using var member = await world.SendAsync(HttpMethod.Get, $"/api/v1/runs/{chain.Run}/download", researcher);
        Assert.Equal(HttpStatusCode.OK, member.StatusCode);
    }

    [Fact]
    public async Task Attach_NeedsOwnStagedFile_AndUniqueName()
    {
        var (curator, chain) = await PublicChainAsync();
        var other = await world.UserAsync("other@a.org", "researcher", "lab-a");
        using var uploaded = await world.UploadAsync(other, "a.fastq", [1]);
        var foreign = (await uploaded.ReadJsonAsync()).GetProperty("id").GetInt64();

        using (var notMine = await world.SendAsync(HttpMethod.Post, $"/api/v1/runs/{chain.Run}/files", curator, new { staged_file_id = foreign }))
        {
            JsonAssert.IsProblem(notMine, HttpStatusCode.NotFound);
        }

        await world.AttachAsync(curator, chain.Run, "a.fastq", [1]);
        using var again = await world.UploadAsync(curator, "a.fastq", [2]);
        var second = (await again.ReadJsonAsync()).GetProperty("id").GetInt64();
        using var duplicate = await world.SendAsync(HttpMethod.Post, $"/api/v1/runs/{chain.Run}/files", curator, new { staged_file_id = second });
        JsonAssert.IsProblem(duplicate, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task FileReport_IsTsvByDefault_AndJsonOnRequest()
    {
        var (curator, chain) = await PublicChainAsync();
        await world.AttachAsync(curator, chain.Run, "r_1.fastq", [1, 2]);
        await world.AttachAsync(curator, chain.Run, "r_2.fastq", [3, 4, 5]);

        using (var tsv = await world.Client.GetAsync($"/api/v1/filereport?accession={chain.Sample}"))
        {
            Assert.Equal(HttpStatusCode.OK, tsv.StatusCode);
            Assert.Equal("text/tab-separated-values", tsv.Content.Headers.ContentType?.MediaType);
            var lines = (await tsv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.Equal("project_accession\tsample_accession\texperiment_accession\trun_accession\tfile_count\tfile_names\tfile_bytes\tfile_md5\tfile_urls", lines[0]);
            var cells = lines[1].Split('\t');
            Assert.Equal([chain.Project, chain.Sample, chain.Experiment, chain.Run, "2", "r_1.fastq;r_2.fastq", "2;3"], cells[..7]);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/filereport?accession={chain.Run}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var json = await world.Client.SendAsync(request);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        var rows = await json.ReadJsonAsync();
        Assert.Equal(1, rows.GetArrayLength());
        JsonAssert.HasExactly(rows[0], "project_accession", "sample_accession", "experiment_accession", "run_accession", "file_count", "file_names", "file_bytes", "file_md5", "file_urls");

        var byFormat = await world.GetJsonAsync($"/api/v1/filereport?accession={chain.Project}&format=json");
        Assert.Equal(chain.Run, byFormat[0].GetProperty("run_accession").GetString());
    }

    [Fact]
    public async Task Attach_TheSameStagedFileConcurrently_OneSucceeds_TheOthersGet409Or404_NeverA500()
    {
        var (curator, chain) = await PublicChainAsync();
        using var uploaded = await world.UploadAsync(curator, "race.fastq", [1, 2, 3]);
        var staged = (await uploaded.ReadJsonAsync()).GetProperty("id").GetInt64();

        var attaches = Enumerable.Range(0, 4).Select(_ => world.SendAsync(HttpMethod.Post, $"/api/v1/runs/{chain.Run}/files", curator, new { staged_file_id = staged }));
        var statuses = new List<HttpStatusCode>();
        foreach (var response in await Task.WhenAll(attaches))
        {
            statuses.Add(response.StatusCode);
            response.Dispose();
        }

        // A loser that arrives after the winner committed finds no such staged file (404), as it
        // would one request later; one that raced it is told so (409). None fails.
        Assert.Single(statuses, s => s == HttpStatusCode.Created);
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.NotFound }));
    }

    [Fact]
    public async Task FileReport_NeutralisesSpreadsheetFormulas_AndLinksComeFromTheIssuerNotTheHostHeader()
    {
        var (curator, chain) = await PublicChainAsync();
        await world.AttachAsync(curator, chain.Run, "=SUM(A1,A2).fastq", [1]);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/filereport?accession={chain.Run}");
        request.Headers.Host = "evil.example";
        using var tsv = await world.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, tsv.StatusCode);
        var cells = (await tsv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split('\t');
        Assert.Equal("'=SUM(A1,A2).fastq", cells[5]);
        Assert.StartsWith($"http://localhost:8000/api/v1/runs/{chain.Run}/download?file=", cells[8], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletingRun_RemovesItsFilesFromDisk()
    {
        var (curator, chain) = await PublicChainAsync();
        await world.AttachAsync(curator, chain.Run, "r.fastq", [1, 2, 3]);
        Assert.Single(Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories));

        using var deleted = await world.SendAsync(HttpMethod.Delete, $"/api/v1/runs/{chain.Run}", curator);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories));
    }
}
