using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenServer.LoadRunner;

/// <summary>
/// How long a logout on one instance takes to be refused on another (docs/performance.md,
/// "Revocation across instances"); runs only with two or more instances. Each iteration: a fresh
/// session from client_credentials on instance A (no password hash), its access token accepted
/// by GET /api/v1/auth/me on instance B, a logout of that session on A, then B polled every
/// <see cref="PollInterval"/> until it answers 401. The delay is from A's answer to the logout to
/// the arrival of B's first 401; the scenario's p50 and p99 are those delays, its rate the
/// revocations measured per second, its statuses every answer of every step.
/// </summary>
internal sealed class CrossInstanceRevocationScenario((string ClientId, string Secret) service, IReadOnlyList<Uri> instances) : IScenario
{
    public const string ScenarioName = "revocation-across-instances";

    /// <summary>Few workers, so that the polling does not load the instances it measures.</summary>
    private const int Workers = 4;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public string Name => ScenarioName;

    public async Task<ScenarioResult> RunAsync(HttpClient http, RunOptions options, Func<TimeSpan> serverCpu)
    {
        using var a = Direct(instances[0]);
        using var b = Direct(instances[1]);

        var warmUp = new Recorder();
        await LoopAsync(a, b, warmUp, new Tally(), TimeSpan.FromSeconds(options.WarmUpSeconds));
        var recorder = new Recorder();
        var tally = new Tally();
        var cpuBefore = serverCpu();
        await LoopAsync(a, b, recorder, tally, TimeSpan.FromSeconds(options.Seconds));
        var cpu = serverCpu() - cpuBefore;

        var delays = recorder.Result(Name, options.Seconds);
        var extra = new JsonObject
        {
            ["measured"] = $"delay from the answer to a logout on instance A until instance B refuses the access token of that session (401), polled every {PollInterval.TotalMilliseconds} ms",
            ["revocations_seen"] = delays.Completed,
            ["delay_max_ms"] = Math.Round(tally.MaxDelay, 3),
            ["timeouts"] = tally.Timeouts,
            ["timeout_ms"] = Timeout.TotalMilliseconds,
            ["not_accepted_on_b_before_logout"] = tally.NotConfirmed,
            ["polls"] = tally.Polls,
            ["workers"] = Workers,
        };
        return delays with
        {
            Extra = extra,
            ServerErrors = delays.ServerErrors + warmUp.Result(Name, 1).ServerErrors,
            ServerCpuSeconds = cpu.TotalSeconds,
        };
    }

    private static HttpClient Direct(Uri instance) =>
        new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = instance, Timeout = TimeSpan.FromSeconds(30) };

    private async Task LoopAsync(HttpClient a, HttpClient b, Recorder recorder, Tally tally, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            var delays = recorder.NewWorker();
            while (clock.Elapsed < duration)
            {
                try
                {
                    var delay = await IterateAsync(a, b, recorder, tally);
                    if (delay is { } seen && clock.Elapsed <= duration)
                    {
                        delays.Add(seen.TotalMilliseconds);
                        tally.Saw(seen.TotalMilliseconds);
                    }
                }
                catch (HttpRequestException)
                {
                    recorder.Status(599);
                }
                catch (TaskCanceledException)
                {
                    recorder.Status(598);
                }
            }
        })));
    }

    /// <summary>One session: minted on A, accepted by B, logged out on A, then B polled; the delay, or null if a step failed or B never refused.</summary>
    private async Task<TimeSpan?> IterateAsync(HttpClient a, HttpClient b, Recorder recorder, Tally tally)
    {
        string token;
        using (var granted = await a.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = service.ClientId,
            ["client_secret"] = service.Secret,
        })))
        {
            recorder.Status((int)granted.StatusCode);
            if (granted.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }

            token = (await granted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        }

        var before = await MeAsync(b, token);
        recorder.Status(before);
        if (before != (int)HttpStatusCode.OK)
        {
            tally.NotAccepted();
            return null;
        }

        using (var logout = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/logout"))
        {
            logout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var answered = await a.SendAsync(logout);
            recorder.Status((int)answered.StatusCode);
            if (answered.StatusCode != HttpStatusCode.NoContent)
            {
                return null;
            }
        }

        var loggedOut = Stopwatch.GetTimestamp();
        while (true)
        {
            var status = await MeAsync(b, token);
            recorder.Status(status);
            tally.Polled();
            if (status == (int)HttpStatusCode.Unauthorized)
            {
                return Stopwatch.GetElapsedTime(loggedOut);
            }

            if (status != (int)HttpStatusCode.OK)
            {
                return null;
            }

            if (Stopwatch.GetElapsedTime(loggedOut) > Timeout)
            {
                tally.TimedOut();
                return null;
            }

            await Task.Delay(PollInterval);
        }
    }

    private static async Task<int> MeAsync(HttpClient instance, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await instance.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return (int)response.StatusCode;
    }

    /// <summary>What the delays and statuses alone do not say: the slowest, the sessions B never refused or never accepted, the polls.</summary>
    private sealed class Tally
    {
        private readonly Lock gate = new();

        public double MaxDelay { get; private set; }

        public int Timeouts { get; private set; }

        public int NotConfirmed { get; private set; }

        public int Polls { get; private set; }

        public void Saw(double milliseconds)
        {
            lock (gate)
            {
                MaxDelay = Math.Max(MaxDelay, milliseconds);
            }
        }

        public void Polled()
        {
            lock (gate)
            {
                Polls++;
            }
        }

        public void TimedOut()
        {
            lock (gate)
            {
                Timeouts++;
            }
        }

        public void NotAccepted()
        {
            lock (gate)
            {
                NotConfirmed++;
            }
        }
    }
}
