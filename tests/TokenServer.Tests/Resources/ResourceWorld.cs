using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>
/// A server of its own plus helpers that build organizations, accounts with roles and records
/// through the public HTTP API only (admin endpoints for organizations, memberships and roles).
/// </summary>
public sealed class ResourceWorld : IDisposable
{
    public const string RecordProperties = "accession,title,description,organization,is_public,release_date,created_at,updated_at";

    private readonly string filesDirectory = Path.Combine(Path.GetTempPath(), $"tokenserver-files-{Guid.NewGuid():N}");
    private HttpClient? client;
    private string? adminToken;

    public ResourceWorld(Action<Dictionary<string, string?>>? configure = null)
    {
        Factory.Settings["TokenServer:Resources:FilesDirectory"] = filesDirectory;
        configure?.Invoke(Factory.Settings);
    }

    public TokenServerFactory Factory { get; } = new();

    public HttpClient Client => client ??= Factory.CreateClient();

    public string FilesDirectory => filesDirectory;

    public void Dispose()
    {
        client?.Dispose();
        Factory.Dispose();
        if (Directory.Exists(filesDirectory))
        {
            Directory.Delete(filesDirectory, recursive: true);
        }
    }

    public async Task<string> AdminAsync() => adminToken ??= (await Client.LoginAdminAsync()).AccessToken;

    public async Task OrganizationAsync(string slug)
    {
        using var response = await Client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug, name = slug }, await AdminAsync());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>Registers an account, gives it a role and memberships, and logs it in.</summary>
    public async Task<string> UserAsync(string email, string role, params string[] organizations)
    {
        var registered = await Client.RegisterAsync(email, role: role is "viewer" ? "viewer" : "researcher");
        var id = registered.GetProperty("id").GetInt64();
        if (role is "curator" or "admin")
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}") { Content = JsonContent.Create(new { role }) }.WithBearer(await AdminAsync());
            using var patched = await Client.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        foreach (var slug in organizations)
        {
            using var added = await Client.PostJsonWithTokenAsync($"/api/v1/organizations/{slug}/members", new { email, role = "member" }, await AdminAsync());
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        return (await Client.LoginAsync(email)).AccessToken;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null, string? orgSlug = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (token is not null)
        {
            request.WithBearer(token);
        }

        if (orgSlug is not null)
        {
            request.Headers.Add("x-org-slug", orgSlug);
        }

        return await Client.SendAsync(request);
    }

    public async Task<JsonElement> GetJsonAsync(string path, string? token = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await SendAsync(HttpMethod.Get, path, token);
        Assert.Equal(expected, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public async Task<string> CreateAsync(string path, string token, object body, string? orgSlug = null)
    {
        using var response = await SendAsync(HttpMethod.Post, path, token, body, orgSlug);
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {path}: {(int)response.StatusCode} {json}");
        return json.GetProperty("accession").GetString()!;
    }

    public sealed record Chain(string Project, string Sample, string Experiment, string Run);

    /// <summary>A project, sample, experiment and run; published by a curator when <paramref name="isPublic"/>.</summary>
    public async Task<Chain> ChainAsync(string token, bool isPublic, string? orgSlug = null, string title = "Soil survey")
    {
        var project = await CreateAsync("/api/v1/projects/", token, isPublic ? (object)new { title, description = "Topsoil", is_public = true } : new { title, description = "Topsoil" }, orgSlug);
        var sample = await CreateAsync("/api/v1/samples/", token, isPublic
            ? (object)new { project, title = $"{title} sample", organism = "soil metagenome", taxon_id = 410658, attributes = new Dictionary<string, string> { ["depth"] = "10cm" }, is_public = true }
            : new { project, title = $"{title} sample", organism = "soil metagenome", taxon_id = 410658, attributes = new Dictionary<string, string> { ["depth"] = "10cm" } });
        var experiment = await CreateAsync("/api/v1/experiments/", token, isPublic
            ? (object)new { sample, platform = "ILLUMINA", library_layout = "PAIRED", is_public = true }
            : new { sample, platform = "ILLUMINA", library_layout = "PAIRED" });
        var run = await CreateAsync("/api/v1/runs/", token, isPublic ? (object)new { experiment, title = "Run 1", is_public = true } : new { experiment, title = "Run 1" });
        return new Chain(project, sample, experiment, run);
    }

    public async Task<HttpResponseMessage> UploadAsync(string token, string fileName, byte[] content)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/staging/files") { Content = form }.WithBearer(token);
        return await Client.SendAsync(request);
    }

    /// <summary>Uploads a staged file and attaches it to the run.</summary>
    public async Task AttachAsync(string token, string run, string fileName, byte[] content)
    {
        using var uploaded = await UploadAsync(token, fileName, content);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var staged = (await uploaded.ReadJsonAsync()).GetProperty("id").GetInt64();
        using var attached = await SendAsync(HttpMethod.Post, $"/api/v1/runs/{run}/files", token, new { staged_file_id = staged });
        Assert.Equal(HttpStatusCode.Created, attached.StatusCode);
    }
}
