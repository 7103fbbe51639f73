using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TokenServer.Hosting;

public static class HostingSetup
{
    public const string DefaultUrl = "http://localhost:8000";

    /// <summary>
    /// The content root is the app's own directory, not the working directory: the README's
    /// production command (<c>dotnet /opt/tokenserver/TokenServer.dll</c>) run from anywhere
    /// reads the appsettings.json beside the binary, with its log levels, and keeps its default
    /// SQLite store there. <c>--contentRoot</c> or ASPNETCORE_CONTENTROOT/DOTNET_CONTENTROOT
    /// still choose another.
    /// </summary>
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = args.Any(a => a.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"))
                ? null
                : AppContext.BaseDirectory,
    };

    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        // CONTRACTS.md: the default listen address is http://localhost:8000 (the SeqDB examples use it).
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddHttpContextAccessor();
        services.Configure<JsonOptions>(o =>
        {
            // No naming policy: five dialects spell their fields five ways, each pinned by [JsonPropertyName].
            o.SerializerOptions.PropertyNamingPolicy = null;
            o.SerializerOptions.MaxDepth = 32;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddOpenApiDocument();
        builder.AddForwardedHeaders();
        return builder;
    }

    /// <summary>
    /// Behind a reverse proxy (README "Production on PostgreSQL"), trust X-Forwarded-For and
    /// X-Forwarded-Proto only from the proxies named in ForwardedHeaders:KnownProxies, so client
    /// addresses in sessions, audit and rate limits are the real ones and cannot be forged by
    /// clients talking to the server directly.
    /// </summary>
    private static void AddForwardedHeaders(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("ForwardedHeaders");
        if (!section.GetValue<bool>("Enabled"))
        {
            return;
        }

        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var addresses = new List<IPAddress>();
        foreach (var proxy in proxies)
        {
            if (!IPAddress.TryParse(proxy, out var address))
            {
                throw new InvalidOperationException($"ForwardedHeaders:KnownProxies contains '{proxy}', which is not an IP address.");
            }

            addresses.Add(address);
        }

        if (addresses.Count == 0)
        {
            throw new InvalidOperationException("ForwardedHeaders:Enabled is true, so ForwardedHeaders:KnownProxies must list the proxies' IP addresses (for example ForwardedHeaders__KnownProxies__0=10.0.0.5).");
        }

        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Both lists: the framework trusts loopback through KnownNetworks (127.0.0.0/8) as well
            // as KnownProxies, so clearing only the latter would still let a local client forge
            // X-Forwarded-For.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var address in addresses)
            {
                o.KnownProxies.Add(address);
            }
        });
    }

    public static WebApplication UseHosting(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>("ForwardedHeaders:Enabled"))
        {
            app.UseForwardedHeaders();
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSecurityHeaders();
        app.UseOpenApiDocument();
        return app;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/api/v1/health", new HealthCheckOptions
        {
            // Degraded (a clock behind the signing keys) is out of rotation too: such an instance
            // cannot sign and judges expiry by a wrong clock (docs/decisions.md, "Clock skew").
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json";

                // The status, and any figure a check reports (clock_behind_seconds) beside it.
                var body = new Dictionary<string, object> { ["status"] = report.Status.ToString().ToLowerInvariant() };
                foreach (var (key, value) in report.Entries.Values.SelectMany(e => e.Data))
                {
                    body[key] = value;
                }

                return context.Response.WriteAsync(JsonSerializer.Serialize(body));
            },
        }).WithTags("Health");
        return app;
    }

    private static void UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            if (context.Request.IsHttps)
            {
                // RFC 6797: once a browser has seen the server over HTTPS, it never tries plain HTTP.
                headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            }

            return next(context);
        });
}

/// <summary>
/// A request the framework could not bind (malformed JSON, a missing body, a bad route value)
/// is the client's mistake: 400 problem details that say what was wrong, never a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        logger.LogInformation("Rejected a malformed request to {Path}: {Reason}", httpContext.Request.Path, bad.Message);
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = "Malformed request",
                Detail = $"{bad.Message} Check the request body and parameters against the API description at /swagger.",
            },
        });
    }
}
