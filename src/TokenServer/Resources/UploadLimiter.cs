using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace TokenServer.Resources;

/// <summary>
/// Uploads per account in a fixed window (<see cref="ResourceOptions.UploadsPerWindow"/>), with
/// the rate limiter the credential routes use (System.Threading.RateLimiting). Partitioned by
/// the caller's account inside the handler, since the rate-limiting middleware runs before the
/// caller is known (Hosting/CredentialLimits.cs). Per instance, like the address limits.
/// </summary>
public sealed class UploadLimiter(IOptions<ResourceOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<long> limiter = PartitionedRateLimiter.Create<long, long>(account =>
        RateLimitPartition.GetFixedWindowLimiter(account, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.UploadsPerWindow,
            Window = options.Value.UploadWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Null when the account may upload now; otherwise how long until it may.</summary>
    public TimeSpan? TryAcquire(long accountId)
    {
        using var lease = limiter.AttemptAcquire(accountId);
        return lease.IsAcquired ? null
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Value.UploadWindow;
    }

    public void Dispose() => limiter.Dispose();
}
