using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TokenServer.LoadRunner;

/// <summary>
/// The authorization-code exchange (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6), driven as a
/// browser and a web app would, with plain HTTP. Each worker signs in once through the sign-in
/// page (its own browser session). Then, per docs/performance.md ("Authorization-code exchange"):
/// a warm-up runs whole pairs (GET /connect/authorize, then the exchange); a minting phase, not
/// measured, collects codes from /connect/authorize for up to <see cref="MaxMintSeconds"/>; the
/// measured window then runs only exchanges, each expecting a 200 with an ID token, and ends
/// early if a worker has used up its codes. The figures are the exchange's; the minting phase is
/// reported beside them (codes, rate, latency and statuses of /connect/authorize).
/// </summary>
internal sealed class CodeFlowScenario(Setup.CodeClient client) : IScenario
{
    public const string ScenarioName = "authorization-code";
    public const string RedirectUri = "https://bench.example.org/callback";

    /// <summary>Minting stops after this long, and the window after <see cref="MaxWindowSeconds"/>, so every code is used within its 60 s lifetime.</summary>
    private const int MaxMintSeconds = 20;
    private const int MaxWindowSeconds = 30;

    /// <summary>Stands for a 200 from the token endpoint without an ID token: a failure, counted as a 5xx.</summary>
    private const int NoIdToken = 597;

    private static readonly byte[] IdTokenProperty = "\"id_token\""u8.ToArray();

    public string Name => ScenarioName;

    public async Task<ScenarioResult> RunAsync(HttpClient http, RunOptions options, Func<TimeSpan> serverCpu)
    {
        // One after the other: each is a password hash, and the hashing gate refuses (503) what
        // exceeds its queue, which a high --concurrency would.
        var workers = new List<Worker>();
        for (var i = 0; i < options.Concurrency; i++)
        {
            workers.Add(await SignInAsync(http));
        }

        // Warm-up: whole pairs, so both endpoints' code is tiered up; a 5xx still fails the run.
        var warmUp = new Recorder();
        var warmUpClock = Stopwatch.StartNew();
        await Task.WhenAll(workers.Select(w => Task.Run(async () =>
        {
            while (warmUpClock.Elapsed.TotalSeconds < options.WarmUpSeconds)
            {
                var (status, code) = await AuthorizeAsync(http, w.Cookie);
                warmUp.Status(status);
                if (code is not null)
                {
                    warmUp.Status(await ExchangeAsync(http, code.Value));
                }
            }
        })));

        // Minting: codes collected ahead of the window, so the window measures the exchange alone.
        var authorize = new Recorder();
        var withoutCode = 0;
        var mintSeconds = Math.Min(options.Seconds, MaxMintSeconds);
        var mintClock = Stopwatch.StartNew();
        await Task.WhenAll(workers.Select(w => Task.Run(async () =>
        {
            var latencies = authorize.NewWorker();
            while (mintClock.Elapsed.TotalSeconds < mintSeconds)
            {
                var started = Stopwatch.GetTimestamp();
                var (status, code) = await AuthorizeAsync(http, w.Cookie);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                authorize.Status(status);
                if (code is null)
                {
                    Interlocked.Increment(ref withoutCode);
                }
                else
                {
                    w.Codes.Enqueue(code.Value);
                }
            }
        })));
        var minted = authorize.Result("authorize", mintClock.Elapsed.TotalSeconds);

        // The measured window: exchanges only, until it closes or the first worker runs out of codes.
        var exchange = new Recorder();
        var windowSeconds = Math.Min(options.Seconds, MaxWindowSeconds);
        using var ranOut = new CancellationTokenSource();
        var ranOutAt = double.MaxValue;
        TimeSpan? cpuAtRanOut = null;
        var cpuBefore = serverCpu();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(workers.Select(w => Task.Run(async () =>
        {
            var latencies = exchange.NewWorker();
            while (clock.Elapsed.TotalSeconds < windowSeconds && !ranOut.IsCancellationRequested)
            {
                if (!w.Codes.TryDequeue(out var code))
                {
                    lock (ranOut)
                    {
                        if (cpuAtRanOut is null)
                        {
                            ranOutAt = clock.Elapsed.TotalSeconds;
                            cpuAtRanOut = serverCpu();
                        }
                    }

                    await ranOut.CancelAsync();
                    break;
                }

                var started = Stopwatch.GetTimestamp();
                var status = await ExchangeAsync(http, code);
                if (clock.Elapsed.TotalSeconds <= windowSeconds && !ranOut.IsCancellationRequested)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                exchange.Status(status);
            }
        })));
        // Answers after the window closed (or after a worker ran out) count in the statuses only.
        var seconds = Math.Min(ranOutAt, windowSeconds);
        var cpu = (cpuAtRanOut ?? serverCpu()) - cpuBefore;
        var extra = new JsonObject
        {
            ["measured"] = "the exchange alone (POST /api/v1/auth/token, grant_type=authorization_code); codes were minted before the window",
            ["window_ended_early_codes_used_up"] = ranOut.IsCancellationRequested,
            ["authorize"] = new JsonObject
            {
                ["codes"] = minted.Completed - withoutCode,
                ["answers_without_code"] = withoutCode,
                ["seconds"] = Math.Round(minted.Seconds, 2),
                ["requests_per_second"] = Math.Round(minted.RequestsPerSecond, 1),
                ["p50_ms"] = Math.Round(minted.P50, 3),
                ["p99_ms"] = Math.Round(minted.P99, 3),
                ["statuses"] = new JsonObject(minted.Statuses.OrderBy(s => s.Key).Select(s => KeyValuePair.Create(s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)s.Value))),
            },
        };
        var result = exchange.Result(Name, seconds, extra);
        return result with
        {
            ServerErrors = result.ServerErrors + minted.ServerErrors + warmUp.Result(Name, 1).ServerErrors,
            ServerCpuSeconds = cpu.TotalSeconds,
        };
    }

    /// <summary>One browser: its cookies (the session's among them) and the codes it has collected.</summary>
    private sealed class Worker(string cookie)
    {
        public string Cookie => cookie;

        public Queue<(string Code, string Verifier)> Codes { get; } = new();
    }

    /// <summary>GET /signin, then POST the form with its anti-forgery token and the password; keeps the cookies a browser would.</summary>
    private static async Task<Worker> SignInAsync(HttpClient http)
    {
        var cookies = new Dictionary<string, string>();
        using var page = await http.GetAsync("/signin?returnUrl=%2Faccount");
        page.EnsureSuccessStatusCode();
        Keep(cookies, page);
        var html = await page.Content.ReadAsStringAsync();
        const string marker = "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"";
        var at = html.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new InvalidOperationException("The sign-in page has no anti-forgery token.");
        }

        var token = html[(at + marker.Length)..html.IndexOf('"', at + marker.Length)];
        using var post = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
                ["ReturnUrl"] = "/account",
                ["Login"] = Setup.UserEmail,
                ["Password"] = Program.PasswordFor,
            }),
        };
        post.Headers.Add("Cookie", Header(cookies));
        using var signedIn = await http.SendAsync(post);
        Keep(cookies, signedIn);
        if (signedIn.StatusCode != HttpStatusCode.Redirect || !cookies.ContainsKey("tokenserver.session"))
        {
            throw new InvalidOperationException($"Signing in through the sign-in page answered {(int)signedIn.StatusCode} without a session cookie.");
        }

        return new Worker(Header(cookies));
    }

    private static void Keep(Dictionary<string, string> cookies, HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            foreach (var value in values)
            {
                var pair = value.Split(';', 2)[0];
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                cookies[pair[..equals].Trim()] = pair[(equals + 1)..];
            }
        }
    }

    private static string Header(Dictionary<string, string> cookies) => string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}"));

    /// <summary>GET /connect/authorize as the signed-in browser (a first-party client: no consent page); the code from the redirect to the client, if any.</summary>
    private async Task<(int Status, (string Code, string Verifier)? Code)> AuthorizeAsync(HttpClient http, string cookie)
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url(RandomNumberGenerator.GetBytes(12));
        var nonce = Base64Url(RandomNumberGenerator.GetBytes(12));
        using var request = new HttpRequestMessage(
            HttpMethod.Get,
            $"/connect/authorize?response_type=code&client_id={client.ClientId}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state={state}&nonce={nonce}&code_challenge={challenge}&code_challenge_method=S256");
        request.Headers.Add("Cookie", cookie);
        int status;
        string? location;
        try
        {
            using var response = await http.SendAsync(request);
            status = (int)response.StatusCode;
            location = response.Headers.Location?.OriginalString;
        }
        catch (HttpRequestException)
        {
            return (599, null);
        }
        catch (TaskCanceledException)
        {
            return (598, null);
        }

        if (location is null || !location.StartsWith(RedirectUri + "?", StringComparison.Ordinal))
        {
            return (status, null);
        }

        string? code = null;
        string? returnedState = null;
        foreach (var parameter in location[(RedirectUri.Length + 1)..].Split('&'))
        {
            if (parameter.StartsWith("code=", StringComparison.Ordinal))
            {
                code = Uri.UnescapeDataString(parameter[5..]);
            }
            else if (parameter.StartsWith("state=", StringComparison.Ordinal))
            {
                returnedState = Uri.UnescapeDataString(parameter[6..]);
            }
        }

        return (status, code is not null && returnedState == state ? (code, verifier) : null);
    }

    /// <summary>The web app's half: POST the code with its verifier and the client's secret; a 200 must carry an ID token.</summary>
    private async Task<int> ExchangeAsync(HttpClient http, (string Code, string Verifier) code)
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = client.ClientId,
            ["client_secret"] = client.Secret,
            ["code"] = code.Code,
            ["code_verifier"] = code.Verifier,
            ["redirect_uri"] = RedirectUri,
        });
        try
        {
            using var response = await http.PostAsync("/api/v1/auth/token", form);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (int)response.StatusCode;
            }

            var body = await response.Content.ReadAsByteArrayAsync();
            return body.AsSpan().IndexOf(IdTokenProperty) >= 0 ? 200 : NoIdToken;
        }
        catch (HttpRequestException)
        {
            return 599;
        }
        catch (TaskCanceledException)
        {
            return 598;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
