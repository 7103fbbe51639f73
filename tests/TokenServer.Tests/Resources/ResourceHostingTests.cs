using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>Demo data (Development only) and the OpenAPI description of the resource routes.</summary>
public sealed class ResourceHostingTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    [Fact]
    public async Task Development_SeedsPublicDemoProject_WithDownloadableFiles()
    {
        using var development = world.Factory.WithWebHostBuilder(b => b.UseEnvironment("Development"));
        using var client = development.CreateClient();

        using var projects = await client.GetAsync("/api/v1/projects/");
        var page = await projects.ReadJsonAsync();
        Assert.Equal(1, page.GetProperty("count").GetInt32());
        Assert.True(page.GetProperty("results")[0].GetProperty("is_public").GetBoolean());

        var runs = await (await client.GetAsync("/api/v1/runs/")).ReadJsonAsync();
        Assert.Equal(3, runs.GetProperty("count").GetInt32());
        var run = runs.GetProperty("results")[0];
        Assert.Equal(2, run.GetProperty("files").GetArrayLength());
        using var download = await client.GetAsync($"/api/v1/runs/{run.GetProperty("accession").GetString()}/download");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.StartsWith("@demo.", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Testing_HasNoDemoData()
    {
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/projects/")).GetProperty("count").GetInt32());
        Assert.False(Directory.Exists(world.FilesDirectory) && Directory.EnumerateFiles(world.FilesDirectory, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task OpenApi_DescribesEveryResourceRoute()
    {
        var document = await world.GetJsonAsync("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/v1/projects", "/api/v1/projects/{accession}", "/api/v1/samples", "/api/v1/samples/{accession}",
            "/api/v1/experiments", "/api/v1/experiments/{accession}", "/api/v1/runs", "/api/v1/runs/{accession}",
            "/api/v1/runs/{accession}/download", "/api/v1/runs/{accession}/files", "/api/v1/filereport", "/api/v1/search",
            "/api/v1/checklists", "/api/v1/bulk-submit/template/{checklistId}", "/api/v1/bulk-submit", "/api/v1/staging/files",
            "/api/v1/staging/files/{id}", "/platform-api/api/core-api/samples",
        })
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document");
            foreach (var operation in item.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("summary", out _), $"{operation.Name} {path} has no summary");
            }
        }

        var upload = paths.GetProperty("/api/v1/staging/files").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(upload.TryGetProperty("multipart/form-data", out _));
        var createProject = paths.GetProperty("/api/v1/projects").GetProperty("post");
        Assert.True(createProject.GetProperty("responses").TryGetProperty("403", out _));
        var example = createProject.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal(JsonValueKind.String, example.GetProperty("title").ValueKind);
    }
}
