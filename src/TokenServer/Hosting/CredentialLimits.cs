using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace TokenServer.Hosting;

/// <summary>Per-client-address limits on routes that take a password or a refresh token (docs/security.md).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "TokenServer:RateLimits";

    /// <summary>Requests one client address may make to credential routes per window.</summary>
    public int PermitLimit { get; set; } = 30;

    /// <summary>Length of the fixed window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Largest request body a credential route reads, in bytes; larger ones get 413.</summary>
    public int MaxCredentialBodyBytes { get; set; } = 16 * 1024;
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions o)
    {
        var errors = new List<string>();
        if (o.PermitLimit < 1)
        {
            errors.Add($"TokenServer:RateLimits:PermitLimit must be at least 1, not {o.PermitLimit}.");
        }

        if (o.Window < TimeSpan.FromSeconds(1) || o.Window > TimeSpan.FromDays(1))
        {
            errors.Add("TokenServer:RateLimits:Window must be between 00:00:01 and 1.00:00:00.");
        }

        if (o.MaxCredentialBodyBytes is < 1024 or > 1024 * 1024)
        {
            errors.Add("TokenServer:RateLimits:MaxCredentialBodyBytes must be between 1024 and 1048576.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// A bounded resource (the password-hashing gate) is full, or this instance cannot serve the
/// request for a while (its clock is behind the signing keys). Thrown by the service that owns
/// the resource, turned into a 503 with <c>Retry-After</c> in the route's own error shape;
/// <see cref="Reason"/>, when given, is what the client is told instead of "busy".
/// </summary>
public sealed class ServerBusyException(TimeSpan retryAfter, string? reason = null)
    : Exception(reason ?? "A bounded server resource is full; the request was refused at once.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;

    public string? Reason { get; } = reason;
}

/// <summary>Marks a route as credential-taking: rate limited per client address, with a small body cap.</summary>
internal sealed record CredentialRouteMetadata;

public static class CredentialLimits
{
    public const string Policy = "credentials";

    private static readonly CredentialRouteMetadata Marker = new();

    /// <summary>
    /// Opts a route (or group) that takes a password, a client secret or a refresh token into the
    /// per-client-address rate limit (429 with Retry-After in the route's shape, through its
    /// <see cref="IAuthFailureWriter"/>) and the small body cap (413).
    /// </summary>
    public static TBuilder RequireCredentialRateLimit<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireRateLimiting(Policy).WithMetadata(Marker);

    public static IServiceCollection AddCredentialLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Policy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;

                // Partitioned by the connection's address. Behind a reverse proxy, configure
                // ForwardedHeaders so this is the client's address, not the proxy's (docs/security.md).
                var address = ClientAddress.PartitionOf(context.Connection.RemoteIpAddress);
                return RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.PermitLimit,
                    Window = options.Window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? wait
                    : rejected.HttpContext.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.Window;
                var logger = rejected.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CredentialLimits));
                logger.LogInformation("Rate limited {Path} from {Address}", rejected.HttpContext.Request.Path, rejected.HttpContext.Connection.RemoteIpAddress);
                return new ValueTask(AuthFailures.WriteAsync(rejected.HttpContext, AuthFailureKind.RateLimited, retryAfter));
            };
        });
        return services;
    }

    /// <summary>After routing: the body cap and busy handling of credential routes, then the rate limiter.</summary>
    public static IApplicationBuilder UseCredentialLimits(this IApplicationBuilder app)
    {
        app.UseMiddleware<CredentialRouteMiddleware>();
        app.UseRateLimiter();
        return app;
    }
}

/// <summary>
/// Caps the body of credential routes (Content-Length checked before reading; a chunked body
/// is cut off while reading), and turns <see cref="ServerBusyException"/> from any route into
/// that route's 503.
/// </summary>
internal sealed class CredentialRouteMiddleware(RequestDelegate next, IOptions<RateLimitOptions> options, ILogger<CredentialRouteMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CredentialRouteMetadata>() is not null)
        {
            var limit = options.Value.MaxCredentialBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                await TooLarge(limit).ExecuteAsync(context);
                return;
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = limit;
            }

            context.Request.Body = new CappedStream(context.Request.Body, limit);
        }

        try
        {
            await next(context);
        }
        catch (ServerBusyException busy) when (!context.Response.HasStarted)
        {
            logger.LogWarning("Refused {Path}: {Reason}", context.Request.Path, busy.Message);
            context.Response.Clear();
            if (busy.Reason is not null)
            {
                context.Features.Set(new UnavailableReason(busy.Reason));
            }

            await AuthFailures.WriteAsync(context, AuthFailureKind.Overloaded, busy.RetryAfter);
        }
    }

    internal static IResult TooLarge(long limit) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"This route accepts at most {limit.ToString(CultureInfo.InvariantCulture)} bytes of body. Send only the credential fields.");
}

/// <summary>A read-only view of a request body that fails with 413 once more than the limit has been read.</summary>
internal sealed class CappedStream(Stream inner, long limit) : Stream
{
    private long read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int n)
    {
        read += n;
        if (read > limit)
        {
            throw new BadHttpRequestException($"The request body is larger than {limit.ToString(CultureInfo.InvariantCulture)} bytes; this route accepts only small credential bodies.", StatusCodes.Status413PayloadTooLarge);
        }

        return n;
    }
}
