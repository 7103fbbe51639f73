using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>A misconfigured server does not start, and says which key is wrong (ARCHITECTURE.md habit 8).</summary>
public sealed class SecurityOptionsTests
{
    [Theory]
    [InlineData("TokenServer:RateLimits:PermitLimit", "0")]
    [InlineData("TokenServer:RateLimits:Window", "00:00:00")]
    [InlineData("TokenServer:RateLimits:MaxCredentialBodyBytes", "10")]
    [InlineData("TokenServer:Passwords:MaxConcurrentHashes", "-1")]
    [InlineData("TokenServer:Passwords:MaxQueuedHashes", "-5")]
    [InlineData("TokenServer:Audit:Retention", "01:00:00")]
    [InlineData("TokenServer:Pruning:Interval", "00:00:00")]
    [InlineData("TokenServer:Pruning:BatchSize", "0")]
    public void InvalidSetting_StopsTheServer_WithAMessageNamingTheKey(string key, string value)
    {
        using var factory = new TokenServerFactory();
        factory.Settings[key] = value;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        // The whole exception in the failure message: a start that fails for another reason says which.
        Assert.True(error.ToString().Contains(key, StringComparison.Ordinal), error.ToString());
    }
}
