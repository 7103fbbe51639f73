using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace TokenServer.Tokens;

/// <summary>
/// Degraded when this instance's clock is further behind the signing keys' creators than
/// <see cref="TokenOptions.ClockSkew"/> (docs/decisions.md, "Clock skew"): it cannot sign while
/// no key has activated by its clock, and it judges every token's expiry by a wrong clock.
/// The lag is reported as <c>clock_behind_seconds</c>.
/// </summary>
internal sealed class ClockSkewHealthCheck(SigningKeyRing ring, IOptions<TokenOptions> options) : IHealthCheck
{
    public const string BehindSeconds = "clock_behind_seconds";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var behind = ring.ClockBehind;
        return Task.FromResult(behind <= options.Value.ClockSkew
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded(
                $"This instance's clock is {behind} behind the instance that created the newest signing key; fix its time synchronisation.",
                data: new Dictionary<string, object> { [BehindSeconds] = Math.Round(behind.TotalSeconds, 3) }));
    }
}
