using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Observability;

/// <summary>
/// Every server in a process names its meter "TokenServer", and a listener subscribes by name,
/// so a scrape taken while other tests' servers run can show their instruments in place of its
/// own: these tests run alone.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>The Prometheus scrape counts what an operator watches (README "Operating").</summary>
[Collection(nameof(MetricsTests))]
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Scrape_CountsLoginsFailuresRefreshesAndReuse()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        await client.RegisterAsync("metrics@example.org");
        var before = await ScrapeAsync(client);

        var tokens = await client.LoginAsync("metrics@example.org");
        using (var failed = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "metrics@example.org", password = "not-the-password" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using (var refreshed = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        }

        using (var reused = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);
        }

        var after = await ScrapeAsync(client);

        Assert.True(Value(after, "tokenserver_logins_total", "dialect=\"native\"") >= Value(before, "tokenserver_logins_total", "dialect=\"native\"") + 1);
        Assert.True(Value(after, "tokenserver_login_failures_total", "reason=\"wrong_password\"") >= Value(before, "tokenserver_login_failures_total", "reason=\"wrong_password\"") + 1);
        Assert.True(Value(after, "tokenserver_refreshes_total", "dialect=\"native\"") >= Value(before, "tokenserver_refreshes_total", "dialect=\"native\"") + 1);
        Assert.True(Value(after, "tokenserver_refresh_reuse_detections_total", null) >= Value(before, "tokenserver_refresh_reuse_detections_total", null) + 1);
        Assert.Contains("tokenserver_hashing_queue_depth", after, StringComparison.Ordinal);
        Assert.Contains("tokenserver_signing_key_age_seconds", after, StringComparison.Ordinal);
        Assert.Contains("tokenserver_revocation_poll_lag_seconds", after, StringComparison.Ordinal);
        Assert.Contains("tokenserver_hashing_wait_seconds_bucket", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_IsServedAtTheOperatorsPath()
    {
        using var factory = new TokenServerFactory();
        factory.Settings["TokenServer:Metrics:Path"] = "/internal/prometheus";
        var client = factory.CreateClient();

        using var moved = await client.GetAsync("/internal/prometheus");
        using var old = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.StartsWith("text/plain", moved.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of a metric's samples whose labels include <paramref name="label"/> (all samples when null); 0 when absent.</summary>
    private static double Value(string scrape, string metric, string? label) =>
        scrape.Split('\n')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == metric && (label is null || m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ ]+)")]
    private static partial Regex SampleLine();
}
