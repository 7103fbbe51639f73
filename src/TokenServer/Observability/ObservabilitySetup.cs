using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using TokenServer.Auth;
using TokenServer.Tokens;

namespace TokenServer.Observability;

public sealed class MetricsOptions
{
    public const string Section = "TokenServer:Metrics";

    /// <summary>Serve Prometheus metrics at <see cref="Path"/>.</summary>
    public bool Enabled { get; set; } = true;

    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// Answer the scrape only on this host and port (for example <c>*:9464</c>, also listed in
    /// <c>Urls</c>), so the metrics need not be reachable where the API is.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>Also push to this OTLP endpoint (for example <c>http://collector:4317</c>); OTEL_EXPORTER_OTLP_* variables apply.</summary>
    public Uri? OtlpEndpoint { get; set; }
}

internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions o) =>
        o.Path.StartsWith('/') && !o.Path.Contains('?', StringComparison.Ordinal)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"TokenServer:Metrics:Path must be a path starting with '/', not '{o.Path}'.");
}

public static class ObservabilitySetup
{
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddSingleton<TokenServerMetrics>();

        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(TokenServerMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
            if (options.Enabled)
            {
                // No cached answer: a scrape right after an event shows it (Prometheus scrapes every few seconds at most).
                metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            }

            if (options.OtlpEndpoint is { } endpoint)
            {
                metrics.AddOtlpExporter(o => o.Endpoint = endpoint);
            }
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var gate = services.GetRequiredService<HashGate>();
        var sync = services.GetRequiredService<StoreSyncStatus>();
        var ring = services.GetRequiredService<SigningKeyRing>();
        var time = services.GetRequiredService<TimeProvider>();
        services.GetRequiredService<TokenServerMetrics>().ObserveGauges(
            () => gate.Pending,
            () => (time.GetUtcNow() - sync.LastSynced).TotalSeconds,
            () => ring.CurrentActivatesAt is { } at ? (time.GetUtcNow() - at).TotalSeconds : null);

        var o = services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (o.Enabled)
        {
            var endpoint = app.MapPrometheusScrapingEndpoint(o.Path).ExcludeFromDescription();
            if (o.Host is { Length: > 0 } host)
            {
                endpoint.RequireHost(host);
            }
        }

        return app;
    }
}
