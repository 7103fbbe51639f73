using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>
/// What keeps one account from filling the disk (docs/security.md, "Uploads"): a storage quota
/// over its staged and attached files, a free-disk floor (507), an upload rate limit per account
/// (429), a request-size cap (413), and expiry of staged files never attached.
/// </summary>
public sealed class UploadLimitTests : IDisposable
{
    private ResourceWorld world = null!;

    public void Dispose() => world.Dispose();

    private async Task<string> ResearcherAsync(params (string Key, string Value)[] settings)
    {
        world = new ResourceWorld(s =>
        {
            s["TokenServer:Resources:MaxUploadBytes"] = "1024";
            foreach (var (key, value) in settings)
            {
                s[$"TokenServer:Resources:{key}"] = value;
            }
        });
        await world.OrganizationAsync("lab-a");
        return await world.UserAsync("r@a.org", "researcher", "lab-a");
    }

    [Fact]
    public async Task Quota_CountsStagedAndAttachedFiles_AndAnswers507WhenFull()
    {
        var researcher = await ResearcherAsync(("StorageQuotaBytes", "1500"));
        var chain = await world.ChainAsync(researcher, isPublic: false, orgSlug: "lab-a");
        await world.AttachAsync(researcher, chain.Run, "attached.bin", new byte[1000]);

        using (var over = await world.UploadAsync(researcher, "over.bin", new byte[600]))
        {
            JsonAssert.IsProblem(over, HttpStatusCode.InsufficientStorage);
            var detail = (await over.ReadJsonAsync()).GetProperty("detail").GetString();
            Assert.Contains("StorageQuotaBytes", detail, StringComparison.Ordinal);
            Assert.Contains("1000 of 1500", detail, StringComparison.Ordinal);
        }

        using (var fits = await world.UploadAsync(researcher, "fits.bin", new byte[500]))
        {
            Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        }

        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/staging/files", researcher)).GetProperty("count").GetInt32());
        Assert.Equal(2, Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task DiskBelowTheFloor_Answers507AndKeepsNothing()
    {
        var researcher = await ResearcherAsync(("MinFreeDiskBytes", (1L << 60).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        using var response = await world.UploadAsync(researcher, "reads.fastq", new byte[10]);

        JsonAssert.IsProblem(response, HttpStatusCode.InsufficientStorage);
        Assert.Contains("MinFreeDiskBytes", (await response.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/staging/files", researcher)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task UploadsPerAccount_AreRateLimited_With429AndRetryAfter()
    {
        var researcher = await ResearcherAsync(("UploadsPerWindow", "2"));
        var other = await world.UserAsync("other@a.org", "researcher", "lab-a");
        for (var i = 0; i < 2; i++)
        {
            using var allowed = await world.UploadAsync(researcher, $"f{i}.bin", new byte[1]);
            Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        }

        using (var limited = await world.UploadAsync(researcher, "f2.bin", new byte[1]))
        {
            JsonAssert.IsProblem(limited, HttpStatusCode.TooManyRequests);
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Contains("UploadsPerWindow", (await limited.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // The limit is the account's, not the address's: another account still uploads.
        using var theirs = await world.UploadAsync(other, "g.bin", new byte[1]);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
    }

    [Fact]
    public async Task ChunkedBodyLargerThanTheCap_Answers413_EvenInPartsThatAreNotTheFile()
    {
        var researcher = await ResearcherAsync();
        var boundary = "b0undary";
        var body = $"--{boundary}\r\nContent-Disposition: form-data; name=\"junk\"\r\n\r\n{new string('j', 200 * 1024)}\r\n"
            + $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\nabc\r\n--{boundary}--\r\n";

        // A stream of unknown length: sent chunked, without Content-Length.
        using var content = new StreamContent(new UnknownLengthStream(Encoding.ASCII.GetBytes(body)));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/staging/files") { Content = content }.WithBearer(researcher);
        using var response = await world.Client.SendAsync(request);

        JsonAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/staging/files", researcher)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task StagedFilesNeverAttached_ArePrunedAfterTheirLifetime()
    {
        var researcher = await ResearcherAsync(("StagedFileLifetime", "1.00:00:00"));
        using (var old = await world.UploadAsync(researcher, "old.bin", new byte[10]))
        {
            Assert.Equal(HttpStatusCode.Created, old.StatusCode);
        }

        world.Factory.Time.Advance(TimeSpan.FromHours(23));
        researcher = (await world.Client.LoginAsync("r@a.org")).AccessToken;
        using (var young = await world.UploadAsync(researcher, "young.bin", new byte[10]))
        {
            Assert.Equal(HttpStatusCode.Created, young.StatusCode);
        }

        // Past the first file's lifetime: the pruner (every TokenServer:Pruning:Interval) removes it and its bytes.
        world.Factory.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(10));
        researcher = (await world.Client.LoginAsync("r@a.org")).AccessToken;
        var names = new List<string>();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var page = await world.GetJsonAsync("/api/v1/staging/files", researcher);
            names = page.GetProperty("results").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
            if (names.Count == 1)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(["young.bin"], names);
        Assert.Single(Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories));
    }

    private sealed class UnknownLengthStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
