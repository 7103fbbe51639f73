using System.Net;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Resources;

/// <summary>Access rules (docs/decisions.md): public vs private vs other organization vs anonymous, and each role.</summary>
public sealed class ResourceAccessTests : IDisposable
{
    private readonly ResourceWorld world = new();

    public void Dispose() => world.Dispose();

    private async Task<(string Curator, string Researcher, string Viewer, string Outsider)> TeamAsync()
    {
        await world.OrganizationAsync("lab-a");
        await world.OrganizationAsync("lab-b");
        return (
            await world.UserAsync("curator@a.org", "curator", "lab-a"),
            await world.UserAsync("researcher@a.org", "researcher", "lab-a"),
            await world.UserAsync("viewer@a.org", "viewer", "lab-a"),
            await world.UserAsync("curator@b.org", "curator", "lab-b"));
    }

    [Fact]
    public async Task PrivateRecords_AreVisibleToMembersOnly_And404ForEveryoneElse()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);

        foreach (var path in new[] { $"/api/v1/projects/{chain.Project}", $"/api/v1/samples/{chain.Sample}", $"/api/v1/experiments/{chain.Experiment}", $"/api/v1/runs/{chain.Run}" })
        {
            foreach (var stranger in new[] { null, team.Outsider })
            {
                using var hidden = await world.SendAsync(HttpMethod.Get, path, stranger);
                JsonAssert.IsProblem(hidden, HttpStatusCode.NotFound);
            }

            foreach (var member in new[] { team.Viewer, team.Researcher, team.Curator })
            {
                using var shown = await world.SendAsync(HttpMethod.Get, path, member);
                Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
            }
        }

        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/samples/")).GetProperty("count").GetInt32());
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/samples/", team.Outsider)).GetProperty("count").GetInt32());
        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/samples/", team.Viewer)).GetProperty("count").GetInt32());
        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/runs/", await world.AdminAsync())).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task PublicRecords_AreReadableWithoutToken_WithExactProperties()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Curator, isPublic: true);

        var project = await world.GetJsonAsync($"/api/v1/projects/{chain.Project}");
        JsonAssert.HasExactly(project, ResourceWorld.RecordProperties.Split(','));
        Assert.Equal("lab-a", project.GetProperty("organization").GetString());
        Assert.Matches("^PRJ[0-9]{6}$", chain.Project);

        var sample = await world.GetJsonAsync($"/api/v1/samples/{chain.Sample}");
        JsonAssert.HasExactly(sample, "accession", "project", "title", "description", "checklist", "organism", "taxon_id", "attributes",
            "organization", "is_public", "release_date", "created_at", "updated_at");
        Assert.Equal(chain.Project, sample.GetProperty("project").GetString());
        Assert.Equal("10cm", sample.GetProperty("attributes").GetProperty("depth").GetString());
        Assert.Matches("^SAM[0-9]{6}$", chain.Sample);

        var experiment = await world.GetJsonAsync($"/api/v1/experiments/{chain.Experiment}");
        JsonAssert.HasExactly(experiment, "accession", "project", "sample", "title", "library_strategy", "library_source", "library_selection",
            "library_layout", "platform", "instrument_model", "organization", "is_public", "release_date", "created_at", "updated_at");
        Assert.Matches("^EXP[0-9]{6}$", chain.Experiment);

        var run = await world.GetJsonAsync($"/api/v1/runs/{chain.Run}");
        JsonAssert.HasExactly(run, "accession", "project", "sample", "experiment", "title", "files", "organization", "is_public", "release_date", "created_at", "updated_at");
        Assert.Equal(chain.Sample, run.GetProperty("sample").GetString());
        Assert.Matches("^RUN[0-9]{6}$", chain.Run);
    }

    [Fact]
    public async Task ReleaseDate_MakesPrivateRecordPublic_OnceItPasses()
    {
        var team = await TeamAsync();
        var release = world.Factory.Time.GetUtcNow().AddDays(2);
        var project = await world.CreateAsync("/api/v1/projects/", team.Curator, new { title = "Embargoed", release_date = release });

        using (var before = await world.SendAsync(HttpMethod.Get, $"/api/v1/projects/{project}", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        world.Factory.Time.Advance(TimeSpan.FromDays(2).Subtract(TimeSpan.FromSeconds(1)));
        using (var stillBefore = await world.SendAsync(HttpMethod.Get, $"/api/v1/projects/{project}", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, stillBefore.StatusCode);
        }

        world.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        var after = await world.GetJsonAsync($"/api/v1/projects/{project}");
        Assert.False(after.GetProperty("is_public").GetBoolean());
        Assert.Equal(1, (await world.GetJsonAsync("/api/v1/projects/")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Writes_WithoutToken_Return401Problem()
    {
        using var response = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", null, new { title = "x" });
        JsonAssert.IsProblem(response, HttpStatusCode.Unauthorized);
        using var staging = await world.SendAsync(HttpMethod.Get, "/api/v1/staging/files", null);
        JsonAssert.IsProblem(staging, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Viewer_CannotCreateOrChange()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);

        using var create = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", team.Viewer, new { title = "Mine" });
        JsonAssert.IsProblem(create, HttpStatusCode.Forbidden);
        using var patch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/samples/{chain.Sample}", team.Viewer, new { title = "Renamed" });
        JsonAssert.IsProblem(patch, HttpStatusCode.Forbidden);
        using var delete = await world.SendAsync(HttpMethod.Delete, $"/api/v1/runs/{chain.Run}", team.Viewer);
        JsonAssert.IsProblem(delete, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Researcher_CreatesAndEdits_ButCannotPublishOrDelete()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);

        using (var edit = await world.SendAsync(HttpMethod.Patch, $"/api/v1/projects/{chain.Project}", team.Researcher, new { title = "Renamed" }))
        {
            Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
            Assert.Equal("Renamed", (await edit.ReadJsonAsync()).GetProperty("title").GetString());
        }

        using var publishOnCreate = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", team.Researcher, new { title = "Open", is_public = true });
        JsonAssert.IsProblem(publishOnCreate, HttpStatusCode.Forbidden);
        using var publish = await world.SendAsync(HttpMethod.Patch, $"/api/v1/projects/{chain.Project}", team.Researcher, new { is_public = true });
        JsonAssert.IsProblem(publish, HttpStatusCode.Forbidden);
        using var delete = await world.SendAsync(HttpMethod.Delete, $"/api/v1/runs/{chain.Run}", team.Researcher);
        JsonAssert.IsProblem(delete, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Curator_PublishesAndDeletes_ChildrenFirst()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);

        using (var publish = await world.SendAsync(HttpMethod.Patch, $"/api/v1/projects/{chain.Project}", team.Curator, new { is_public = true }))
        {
            Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
        }

        Assert.True((await world.GetJsonAsync($"/api/v1/projects/{chain.Project}")).GetProperty("is_public").GetBoolean());

        using (var blocked = await world.SendAsync(HttpMethod.Delete, $"/api/v1/projects/{chain.Project}", team.Curator))
        {
            JsonAssert.IsProblem(blocked, HttpStatusCode.Conflict);
        }

        foreach (var path in new[] { $"/api/v1/runs/{chain.Run}", $"/api/v1/experiments/{chain.Experiment}", $"/api/v1/samples/{chain.Sample}", $"/api/v1/projects/{chain.Project}" })
        {
            using var deleted = await world.SendAsync(HttpMethod.Delete, path, team.Curator);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            using var gone = await world.SendAsync(HttpMethod.Get, path, team.Curator);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
    }

    [Fact]
    public async Task OtherOrganization_PrivateIs404_PublicIsReadOnly()
    {
        var team = await TeamAsync();
        var hidden = await world.ChainAsync(team.Researcher, isPublic: false);
        var open = await world.ChainAsync(team.Curator, isPublic: true, title: "Open data");

        using var hiddenPatch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/projects/{hidden.Project}", team.Outsider, new { title = "Mine now" });
        JsonAssert.IsProblem(hiddenPatch, HttpStatusCode.NotFound);
        using var hiddenChild = await world.SendAsync(HttpMethod.Post, "/api/v1/samples/", team.Outsider, new { project = hidden.Project, title = "x", organism = "y" });
        JsonAssert.IsProblem(hiddenChild, HttpStatusCode.NotFound);
        using var openPatch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/projects/{open.Project}", team.Outsider, new { title = "Mine now" });
        JsonAssert.IsProblem(openPatch, HttpStatusCode.Forbidden);
        using var openDelete = await world.SendAsync(HttpMethod.Delete, $"/api/v1/runs/{open.Run}", team.Outsider);
        JsonAssert.IsProblem(openDelete, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Admin_ReadsAndChangesEverything()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);
        var admin = await world.AdminAsync();

        using var patch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/samples/{chain.Sample}", admin, new { is_public = true });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using var delete = await world.SendAsync(HttpMethod.Delete, $"/api/v1/runs/{chain.Run}", admin);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        var created = await world.CreateAsync("/api/v1/projects/", admin, new { title = "Admin's" }, orgSlug: "lab-b");
        Assert.Equal("lab-b", (await world.GetJsonAsync($"/api/v1/projects/{created}", admin)).GetProperty("organization").GetString());
    }

    [Fact]
    public async Task Demotion_TakesEffectWithoutNewToken()
    {
        await world.OrganizationAsync("lab-a");
        var token = await world.UserAsync("soon-viewer@a.org", "researcher", "lab-a");
        var accounts = await world.GetJsonAsync("/api/v1/admin/accounts?q=soon-viewer", await world.AdminAsync());
        var id = accounts.GetProperty("results")[0].GetProperty("id").GetInt64();
        using (var patch = await world.SendAsync(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}", await world.AdminAsync(), new { role = "viewer" }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using var create = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", token, new { title = "Too late" });
        // A role change ends the account's sessions (docs/security.md, "Account changes end sessions").
        JsonAssert.IsProblem(create, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task WriteOrganization_FromHeaderOrOnlyMembership()
    {
        await world.OrganizationAsync("lab-a");
        await world.OrganizationAsync("lab-b");
        var loner = await world.UserAsync("loner@x.org", "researcher");
        var single = await world.UserAsync("single@a.org", "researcher", "lab-a");
        var both = await world.UserAsync("both@ab.org", "researcher", "lab-a", "lab-b");

        using (var none = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", loner, new { title = "p" }))
        {
            JsonAssert.IsProblem(none, HttpStatusCode.BadRequest);
        }

        var implicitOrg = await world.CreateAsync("/api/v1/projects/", single, new { title = "p" });
        Assert.Equal("lab-a", (await world.GetJsonAsync($"/api/v1/projects/{implicitOrg}", single)).GetProperty("organization").GetString());

        using (var ambiguous = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", both, new { title = "p" }))
        {
            JsonAssert.IsProblem(ambiguous, HttpStatusCode.BadRequest);
            Assert.Contains("x-org-slug", (await ambiguous.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var chosen = await world.CreateAsync("/api/v1/projects/", both, new { title = "p" }, orgSlug: "lab-b");
        Assert.Equal("lab-b", (await world.GetJsonAsync($"/api/v1/projects/{chosen}", both)).GetProperty("organization").GetString());

        using (var notMine = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", single, new { title = "p" }, orgSlug: "lab-b"))
        {
            JsonAssert.IsProblem(notMine, HttpStatusCode.Forbidden);
        }

        using (var unknown = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", single, new { title = "p" }, orgSlug: "no-such-lab"))
        {
            JsonAssert.IsProblem(unknown, HttpStatusCode.Forbidden);
        }

        using var mismatch = await world.SendAsync(HttpMethod.Post, "/api/v1/samples/", both, new { project = chosen, title = "s", organism = "o" }, orgSlug: "lab-a");
        JsonAssert.IsProblem(mismatch, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task InvalidBodies_Return400WithFieldErrors()
    {
        await world.OrganizationAsync("lab-a");
        var researcher = await world.UserAsync("r@a.org", "researcher", "lab-a");
        var project = await world.CreateAsync("/api/v1/projects/", researcher, new { title = "p" });

        using (var noTitle = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", researcher, new { description = "d" }))
        {
            JsonAssert.IsProblem(noTitle, HttpStatusCode.BadRequest);
            Assert.True((await noTitle.ReadJsonAsync()).GetProperty("errors").TryGetProperty("title", out _));
        }

        using (var checklist = await world.SendAsync(HttpMethod.Post, "/api/v1/samples/", researcher, new { project, title = "s", organism = "o", checklist = "human", attributes = new { host_sex = "unknown" } }))
        {
            JsonAssert.IsProblem(checklist, HttpStatusCode.BadRequest);
            var errors = (await checklist.ReadJsonAsync()).GetProperty("errors");
            Assert.True(errors.TryGetProperty("attributes.host_sex", out _));
            Assert.True(errors.TryGetProperty("attributes.tissue", out _));
        }

        using (var wrongType = await world.Client.PostRawAsync("/api/v1/projects/", "{\"title\": 5}", "application/json"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongType.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/projects/") { Content = new StringContent("{\"title\": [1,", System.Text.Encoding.UTF8, "application/json") }.WithBearer(researcher);
        using var malformed = await world.Client.SendAsync(request);
        JsonAssert.IsProblem(malformed, HttpStatusCode.BadRequest);

        using var badParent = await world.SendAsync(HttpMethod.Post, "/api/v1/experiments/", researcher, new { sample = "not-an-accession", platform = "ILLUMINA" });
        JsonAssert.IsProblem(badParent, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("PATCH", "/api/v1/projects/junk")]
    [InlineData("PATCH", "/api/v1/samples/PRJ000001")]
    [InlineData("DELETE", "/api/v1/experiments/EXP")]
    [InlineData("DELETE", "/api/v1/runs/RUN0000001")]
    [InlineData("POST", "/api/v1/runs/%20/files")]
    public async Task Writes_ToMalformedAccessions_Return404Problem(string method, string path)
    {
        await world.OrganizationAsync("lab-a");
        var curator = await world.UserAsync("curator@a.org", "curator", "lab-a");

        using var response = await world.SendAsync(new HttpMethod(method), path, curator, method == "DELETE" ? null : new { title = "x", staged_file_id = 1 });

        JsonAssert.IsProblem(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Writes_WithInvalidToken_Return401InvalidToken()
    {
        using var response = await world.SendAsync(HttpMethod.Post, "/api/v1/projects/", "not.a.token", new { title = "x" });

        JsonAssert.IsProblem(response, HttpStatusCode.Unauthorized);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovedMember_LosesPrivateRecords_WithoutNewToken()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);
        var viewerId = (await world.GetJsonAsync("/api/v1/auth/me", team.Viewer)).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await world.SendAsync(HttpMethod.Get, $"/api/v1/samples/{chain.Sample}", team.Viewer)).StatusCode);

        using (var removed = await world.SendAsync(HttpMethod.Delete, $"/api/v1/organizations/lab-a/members/{viewerId}", await world.AdminAsync()))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        using var hidden = await world.SendAsync(HttpMethod.Get, $"/api/v1/samples/{chain.Sample}", team.Viewer);
        JsonAssert.IsProblem(hidden, HttpStatusCode.NotFound);
        Assert.Equal(0, (await world.GetJsonAsync("/api/v1/projects/", team.Viewer)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Patch_ChangesFieldsOfEachKind_ButNotParents()
    {
        var team = await TeamAsync();
        var chain = await world.ChainAsync(team.Researcher, isPublic: false);

        using (var sample = await world.SendAsync(HttpMethod.Patch, $"/api/v1/samples/{chain.Sample}", team.Researcher, new { organism = "Zea mays", attributes = new { depth = "20cm" } }))
        {
            var json = await sample.ReadJsonAsync();
            Assert.Equal("Zea mays", json.GetProperty("organism").GetString());
            Assert.Equal("20cm", json.GetProperty("attributes").GetProperty("depth").GetString());
        }

        using (var experiment = await world.SendAsync(HttpMethod.Patch, $"/api/v1/experiments/{chain.Experiment}", team.Researcher, new { instrument_model = "NextSeq 2000", library_layout = "single" }))
        {
            var json = await experiment.ReadJsonAsync();
            Assert.Equal("NextSeq 2000", json.GetProperty("instrument_model").GetString());
            Assert.Equal("SINGLE", json.GetProperty("library_layout").GetString());
        }

        using (var run = await world.SendAsync(HttpMethod.Patch, $"/api/v1/runs/{chain.Run}", team.Researcher, new { title = "Lane 2" }))
        {
            Assert.Equal("Lane 2", (await run.ReadJsonAsync()).GetProperty("title").GetString());
        }

        using (var move = await world.SendAsync(HttpMethod.Patch, $"/api/v1/runs/{chain.Run}", team.Researcher, new { experiment = "EXP000999" }))
        {
            JsonAssert.IsProblem(move, HttpStatusCode.BadRequest);
        }

        using var badLayout = await world.SendAsync(HttpMethod.Patch, $"/api/v1/experiments/{chain.Experiment}", team.Researcher, new { library_layout = "TRIPLE" });
        JsonAssert.IsProblem(badLayout, HttpStatusCode.BadRequest);
    }
}
