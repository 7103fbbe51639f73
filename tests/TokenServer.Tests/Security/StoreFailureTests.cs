#if !POSTGRES
using System.Diagnostics;
#endif
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
#if !POSTGRES
using Microsoft.Data.Sqlite;
#endif
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md "Store failures": 503 with Retry-After in each route's shape, never 500; 409 for lost races.</summary>
public sealed class StoreFailureTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly LogCapture logs = new();

    public StoreFailureTests() => factory.ConfigureTestServices = logs.Register;

    public void Dispose() => factory.Dispose();

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.InRange(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), CultureInfo.InvariantCulture), 1, 60);
    }

    [Fact]
    public async Task StoreGoneAway_EveryRouteAnswers503WithRetryAfterInItsShape_NotA500()
    {
        var client = factory.CreateClient();
        var tokens = await client.RegisterAndLoginAsync("gone@example.org");

        factory.Store.MakeUnreachable();

        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "gone@example.org", password = Api.Password });
        AssertRetryAfter(login);
        JsonAssert.IsProblem(login, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("store", (await login.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var oauth = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "gone@example.org", ["password"] = Api.Password });
        AssertRetryAfter(oauth);
        Assert.Equal("temporarily_unavailable", (await oauth.ReadJsonAsync()).GetProperty("error").GetString());

        using var nemo = await client.PostAsJsonAsync("/v1/login", new { username = "gone@example.org", password = Api.Password });
        AssertRetryAfter(nemo);
        JsonAssert.HasExactly(await nemo.ReadJsonAsync(), "message");

        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        AssertRetryAfter(me);

        using var projects = await client.GetAsync("/api/v1/projects/");
        AssertRetryAfter(projects);

        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("The store failed during /api/v1/auth/login", StringComparison.Ordinal));
    }

#if !POSTGRES
    [Fact]
    public async Task SqliteWriter_ThatCannotGetTheFile_Answers503WithinSeconds_AndTheLogNamesTheHolder()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("busy@example.org");

        // Another process's writer, as during a rolling restart: it holds SQLite's write lock.
        await using var holder = new SqliteConnection(factory.Store.ConnectionString);
        await holder.OpenAsync();
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        var watch = Stopwatch.StartNew();
        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "busy@example.org", password = Api.Password });
        watch.Stop();

        AssertRetryAfter(login);
        JsonAssert.IsProblem(login, HttpStatusCode.ServiceUnavailable);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"answered after {watch.Elapsed}");
        var line = Assert.Single(logs.Lines, l => l.Contains("stayed locked past the busy timeout", StringComparison.Ordinal));
        Assert.Contains($"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} (", line, StringComparison.Ordinal);
    }
#endif

    [Fact]
    public async Task PasswordChange_RacingLoginsAndAnAdminPatch_EachSucceedsOrGets409_NeverA500()
    {
        var client = factory.CreateClient();
        var account = await client.RegisterAsync("racer@example.org");
        var id = account.GetProperty("id").GetInt64();
        var own = await client.LoginAsync("racer@example.org");
        var admin = await client.LoginAdminAsync();

        var requests = new List<Task<HttpResponseMessage>>
        {
            client.PostJsonWithTokenAsync("/api/v1/auth/password", new { current_password = Api.Password, new_password = "a-brand-new-secret-9" }, own.AccessToken),
            client.PostAsJsonAsync("/api/v1/auth/login", new { email = "racer@example.org", password = Api.Password }),
            client.PostAsJsonAsync("/api/v1/auth/login", new { email = "racer@example.org", password = Api.Password }),
        };
        for (var i = 0; i < 3; i++)
        {
            var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{id}") { Content = JsonContent.Create(new { role = i % 2 == 0 ? "curator" : "researcher" }) }.WithBearer(admin.AccessToken);
            requests.Add(client.SendAsync(patch));
        }

        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.True((int)response.StatusCode < 500, $"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}");
            response.Dispose();
        }
    }

    [Fact]
    public async Task BootstrapAdmin_SkippedBecauseTheEmailIsTaken_LogsAWarning()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("taken@example.org");

        // A restart on the same store, configured to bootstrap an admin with that email.
        using var restarted = factory.WithWebHostBuilder(b => b.UseSetting("TokenServer:Bootstrap:AdminEmail", "taken@example.org"));
        restarted.CreateClient().Dispose();

        var warning = Assert.Single(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("AdminBootstrap", StringComparison.Ordinal));
        Assert.Contains("taken@example.org", warning, StringComparison.Ordinal);
        Assert.Contains("researcher", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("Created bootstrap admin", StringComparison.Ordinal) && l.Contains("taken", StringComparison.Ordinal));
    }
}
