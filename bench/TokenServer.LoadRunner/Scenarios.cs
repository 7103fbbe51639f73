using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenServer.LoadRunner;

/// <summary>Accounts and data the scenarios share, made over HTTP before any timing starts.</summary>
internal sealed class Setup
{
    public const string AdminEmail = "bench-admin@example.org";
    public const string UserEmail = "bench-user@example.org";

    public required string UserToken { get; init; }

    public (string ClientId, string Secret)? ServiceClient { get; init; }

    public bool HasSamples { get; init; }

    /// <summary>A personal access token of the user, scope read; null if the server has none.</summary>
    public string? PersonalToken { get; init; }

    /// <summary>A registered public client with the device grant; null if the server has none.</summary>
    public string? DeviceClientId { get; init; }

    /// <summary>A confidential first-party web app with the code grant (CodeFlow.cs); null if the server has none.</summary>
    public CodeClient? WebClient { get; init; }

    public sealed record CodeClient(string ClientId, string Secret);

    public static async Task<Setup> CreateAsync(HttpClient client, RunOptions options)
    {
        using (var register = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = UserEmail, password = Program.PasswordFor, full_name = "Bench User" }))
        {
            register.EnsureSuccessStatusCode();
        }

        var user = await LoginAsync(client, UserEmail);
        var admin = await LoginAsync(client, AdminEmail);
        var service = await TryCreateServiceClientAsync(client, admin);
        var samples = await TrySeedSamplesAsync(client, admin, options.Samples);
        return new Setup
        {
            UserToken = user.Access,
            ServiceClient = service,
            HasSamples = samples,
            PersonalToken = await TryCreatePersonalTokenAsync(client, user.Access),
            DeviceClientId = await TryRegisterDeviceClientAsync(client, admin.Access),
            WebClient = await TryRegisterWebClientAsync(client, admin.Access),
        };
    }

    public const string DeviceClient = "bench-cli";

    private static async Task<string?> TryCreatePersonalTokenAsync(HttpClient client, string userToken)
    {
        using var created = await Send(client, HttpMethod.Post, "/api/v1/auth/personal-access-tokens", userToken, new { name = "bench", scopes = new[] { "read" } });
        return created.IsSuccessStatusCode ? (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString() : null;
    }

    private static async Task<string?> TryRegisterDeviceClientAsync(HttpClient client, string adminToken)
    {
        using var created = await Send(client, HttpMethod.Post, "/api/v1/admin/clients", adminToken, new
        {
            client_id = DeviceClient,
            name = "Bench command-line tool",
            type = "public",
            grant_types = new[] { "urn:ietf:params:oauth:grant-type:device_code" },
            scopes = new[] { "openid" },
            first_party = true,
        });
        return created.IsSuccessStatusCode ? DeviceClient : null;
    }

    /// <summary>First party, so the signed-in user is sent back with a code at once, without a consent page.</summary>
    private static async Task<CodeClient?> TryRegisterWebClientAsync(HttpClient client, string adminToken)
    {
        using var created = await Send(client, HttpMethod.Post, "/api/v1/admin/clients", adminToken, new
        {
            client_id = "bench-web",
            name = "Bench web app",
            type = "confidential",
            redirect_uris = new[] { CodeFlowScenario.RedirectUri },
            grant_types = new[] { "authorization_code" },
            scopes = new[] { "openid" },
            first_party = true,
        });
        return created.IsSuccessStatusCode ? new CodeClient("bench-web", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("client_secret").GetString()!) : null;
    }

    public static async Task<(string Access, string Refresh)> LoginAsync(HttpClient client, string email)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Program.PasswordFor });
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    private static async Task<(string, string)?> TryCreateServiceClientAsync(HttpClient client, (string Access, string Refresh) admin)
    {
        using var org = await Send(client, HttpMethod.Post, "/api/v1/admin/organizations", admin.Access, new { slug = "bench-lab", name = "Bench Lab" });
        using var created = await Send(client, HttpMethod.Post, "/api/v1/organizations/bench-lab/service-users", admin.Access, new { name = "bench-robot", role = "researcher" });
        if (!created.IsSuccessStatusCode)
        {
            return null;
        }

        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("client_id").GetString()!, json.GetProperty("client_secret").GetString()!);
    }

    /// <summary>Fills the store with samples through the bulk-submission route, in chunks.</summary>
    private static async Task<bool> TrySeedSamplesAsync(HttpClient client, (string Access, string Refresh) admin, int count)
    {
        using var template = await client.GetAsync("/api/v1/bulk-submit/template/minimal");
        using var projects = await client.GetAsync("/api/v1/projects/");
        if (!projects.IsSuccessStatusCode || !template.IsSuccessStatusCode)
        {
            return false;
        }

        using (var membership = await Send(client, HttpMethod.Post, "/api/v1/organizations/bench-lab/members", admin.Access, new { email = AdminEmail, role = "admin" }))
        {
            membership.EnsureSuccessStatusCode();
        }

        using var project = await Send(client, HttpMethod.Post, "/api/v1/projects/", admin.Access, new { title = "Bench project", description = "Load-runner data", is_public = true }, "bench-lab");
        if (!project.IsSuccessStatusCode)
        {
            return false;
        }

        var accession = (await project.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accession").GetString();
        Console.WriteLine($"seeding {count} samples into {accession}...");
        var header = (await template.Content.ReadAsStringAsync()).Trim();
        var columns = header.Split(',');
        const int chunk = 2000;
        for (var start = 0; start < count; start += chunk)
        {
            var csv = new StringBuilder(header).Append('\n');
            for (var i = start; i < Math.Min(count, start + chunk); i++)
            {
                csv.AppendJoin(',', columns.Select(c => c switch
                {
                    "title" => $"Sample {i}",
                    "description" => "Load-runner sample",
                    "organism" => "soil metagenome",
                    "taxon_id" => "410658",
                    "collection_date" => "2024-05-31",
                    "geographic_location" => "Germany",
                    _ => string.Empty,
                })).Append('\n');
            }

            using var content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/bulk-submit/?project={accession}&checklist_id=minimal") { Content = content };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin.Access);
            request.Headers.Add("x-org-slug", "bench-lab");
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"sample seeding stopped: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return start > 0;
            }
        }

        return true;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string token, object body, string? org = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (org is not null)
        {
            request.Headers.Add("x-org-slug", org);
        }

        return await client.SendAsync(request);
    }
}

internal interface IScenario
{
    string Name { get; }

    /// <summary>Runs the scenario; <paramref name="serverCpu"/> reads the CPU time the server's processes have used so far.</summary>
    Task<ScenarioResult> RunAsync(HttpClient client, RunOptions options, Func<TimeSpan> serverCpu);
}

/// <summary>A fixed-time closed-loop scenario: every worker sends its next request when the last one answered.</summary>
internal sealed class Scenario(string name, Func<HttpClient, int, Task<object?>> initWorker, Func<HttpClient, object?, Task<int>> request, int? concurrency = null) : IScenario
{
    public string Name => name;

    public async Task<ScenarioResult> RunAsync(HttpClient client, RunOptions options, Func<TimeSpan> serverCpu)
    {
        var workers = concurrency ?? options.Concurrency;
        var states = await Task.WhenAll(Enumerable.Range(0, workers).Select(i => initWorker(client, i)));

        // Unmeasured warm-up: the server's JIT tiers up the scenario's code first, so the
        // figures are the steady state; a 5xx during it still fails the run.
        var warmUp = new Recorder();
        await LoopAsync(client, states, warmUp, TimeSpan.FromSeconds(options.WarmUpSeconds));
        var recorder = new Recorder();
        var cpuBefore = serverCpu();
        var seconds = await LoopAsync(client, states, recorder, TimeSpan.FromSeconds(options.Seconds));
        var cpu = serverCpu() - cpuBefore;
        var result = recorder.Result(name, seconds);
        return result with { ServerErrors = result.ServerErrors + warmUp.Result(name, 1).ServerErrors, ServerCpuSeconds = cpu.TotalSeconds };
    }

    private async Task<double> LoopAsync(HttpClient client, object?[] states, Recorder recorder, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        if (duration <= TimeSpan.Zero)
        {
            return 0;
        }

        await Task.WhenAll(states.Select(state => Task.Run(async () =>
        {
            var latencies = recorder.NewWorker();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await request(client, state);
                }
                catch (HttpRequestException)
                {
                    status = 599;
                }
                catch (TaskCanceledException)
                {
                    status = 598;
                }

                // Only answers within the window count towards the rate and latencies: a request
                // still in flight at the deadline (seconds long for a queued login) would
                // otherwise stretch the window it is divided by. Every status still counts.
                if (clock.Elapsed <= duration)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                recorder.Status(status);
            }
        })));
        return duration.TotalSeconds;
    }
}

internal static class Scenarios
{
    /// <summary>Every scenario against the instances at <paramref name="instances"/> (the scenarios that need more than one run only then).</summary>
    public static IEnumerable<IScenario> All(Setup setup, RunOptions options, IReadOnlyList<Uri> instances)
    {
        yield return new Scenario("public-get-health", NoState, (c, _) => Get(c, "/api/v1/health", null));
        yield return new Scenario("protected-get-me", NoState, (c, _) => Get(c, "/api/v1/auth/me", setup.UserToken));
        if (setup.HasSamples)
        {
            yield return new Scenario("list-samples-100k", NoState, (c, _) => Get(c, $"/api/v1/samples/?page={Random.Shared.Next(1, 50)}&page_size=100", null));
        }

        yield return new Scenario("login", NoState, (c, _) => PostJson(c, "/api/v1/auth/login", new { email = Setup.UserEmail, password = Program.PasswordFor }));
        yield return new Scenario("refresh-rotation", async (c, _) => new Chain((await Setup.LoginAsync(c, Setup.UserEmail)).Refresh), RefreshAsync);
        if (setup.ServiceClient is { } service)
        {
            var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = service.ClientId, ["client_secret"] = service.Secret };
            yield return new Scenario("client-credentials", NoState, async (c, _) =>
            {
                using var response = await c.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent(form));
                return (int)response.StatusCode;
            });
        }

        if (setup.WebClient is { } web)
        {
            yield return new CodeFlowScenario(web);
        }

        // A resource server asks about a user's access token (RFC 7662), as a service user.
        if (setup.ServiceClient is { } introspector)
        {
            var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{introspector.ClientId}:{introspector.Secret}")));
            yield return new Scenario("introspection", NoState, async (c, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/introspect") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = setup.UserToken }) };
                request.Headers.Authorization = basic;
                using var response = await c.SendAsync(request);
                return (int)response.StatusCode;
            });
        }

        if (setup.PersonalToken is { } personal)
        {
            yield return new Scenario("personal-access-token-get-me", NoState, (c, _) => Get(c, "/api/v1/auth/me", personal));
        }

        // A command-line tool polling the token endpoint while its user has not approved yet
        // (RFC 8628 §3.5): each worker polls its own device code; the answers are 400s
        // (authorization_pending or slow_down), the designed ones.
        if (setup.DeviceClientId is { } deviceClient)
        {
            yield return new Scenario(
                "device-flow-poll",
                async (c, _) =>
                {
                    using var started = await c.PostAsync("/connect/device_authorization", new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = deviceClient, ["scope"] = "openid" }));
                    started.EnsureSuccessStatusCode();
                    var code = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("device_code").GetString()!;
                    return new Dictionary<string, string> { ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code", ["client_id"] = deviceClient, ["device_code"] = code };
                },
                async (c, state) =>
                {
                    using var response = await c.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent((Dictionary<string, string>)state!));
                    return (int)response.StatusCode;
                });
        }

        if (instances.Count >= 2 && setup.ServiceClient is { } revoker)
        {
            yield return new CrossInstanceRevocationScenario(revoker, instances);
        }

        // Idle reference for the flood: the same few readers with nothing else going on.
        yield return new Scenario("protected-get-me-4-readers", NoState, (c, _) => Get(c, "/api/v1/auth/me", setup.UserToken), concurrency: 4);
        yield return Flood(new Scenario("flood-protected-get-me", NoState, (c, _) => Get(c, "/api/v1/auth/me", setup.UserToken), concurrency: 4));

        // The sign-in page, idle and while hashing is saturated: pages must stay responsive.
        yield return new Scenario("signin-page-4-readers", NoState, (c, _) => Get(c, "/signin", null), concurrency: 4);
        yield return Flood(new Scenario("flood-signin-page", NoState, (c, _) => Get(c, "/signin", null), concurrency: 4));
    }

    /// <summary>The bare app's public and protected GET (Baseline), at the default concurrency.</summary>
    public static IEnumerable<IScenario> Bare(string token)
    {
        yield return new Scenario(Baseline.Prefix + "public-get-health", NoState, (c, _) => Get(c, "/api/v1/health", null));
        yield return new Scenario(Baseline.Prefix + "protected-get-me", NoState, (c, _) => Get(c, "/api/v1/auth/me", token));
    }

    private static Task<object?> NoState(HttpClient client, int worker) => Task.FromResult<object?>(null);

    private static async Task<int> Get(HttpClient client, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return (int)response.StatusCode;
    }

    private static async Task<int> PostJson(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        return (int)response.StatusCode;
    }

    private static async Task<int> RefreshAsync(HttpClient client, object? state)
    {
        var chain = (Chain)state!;
        using var response = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = chain.Token });
        if (response.StatusCode == HttpStatusCode.OK)
        {
            chain.Token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refresh_token").GetString()!;
        }

        return (int)response.StatusCode;
    }

    private sealed class Chain(string token)
    {
        public string Token { get; set; } = token;
    }

    /// <summary>
    /// Logins at four times the hashing capacity (four flooders per core, each core hashing one
    /// password at a time) while the measured scenario's readers keep calling; reports the readers.
    /// </summary>
    private static BackgroundScenario Flood(Scenario readers) => new(
        readers,
        async (client, stop) =>
        {
            var flooders = 4 * 4 * Environment.ProcessorCount;
            var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
            await Task.WhenAll(Enumerable.Range(0, flooders).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    int status;
                    try
                    {
                        status = await PostJson(client, "/api/v1/auth/login", new { email = Setup.UserEmail, password = Program.PasswordFor });
                    }
                    catch (HttpRequestException)
                    {
                        status = 599;
                    }
                    catch (TaskCanceledException)
                    {
                        // The client's timeout, as in the measured loop: a failure to report, not a crash.
                        status = 598;
                    }

                    statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                }
            })));
            return new JsonObject
            {
                ["login_flooders"] = flooders,
                ["login_statuses"] = new JsonObject(statuses.OrderBy(s => s.Key).Select(s => KeyValuePair.Create(s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)s.Value))),
            };
        });
}

/// <summary>Runs a background load for the whole measured run, starting a second earlier so the measured part sees it saturated.</summary>
internal sealed class BackgroundScenario(Scenario measured, Func<HttpClient, CancellationToken, Task<JsonObject>> background) : IScenario
{
    public string Name => measured.Name;

    public async Task<ScenarioResult> RunAsync(HttpClient client, RunOptions options, Func<TimeSpan> serverCpu)
    {
        using var stop = new CancellationTokenSource();
        var flood = background(client, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var result = await measured.RunAsync(client, options, serverCpu);
        await stop.CancelAsync();
        var extra = await flood;
        // A 503 from the hashing gate is the designed answer to a login flood; any other 5xx is a failure.
        return result with { Extra = extra, ServerErrors = result.ServerErrors + extra["login_statuses"]!.AsObject().Where(s => int.Parse(s.Key, System.Globalization.CultureInfo.InvariantCulture) is >= 500 and not 503).Sum(s => s.Value!.GetValue<int>()) };
    }
}
