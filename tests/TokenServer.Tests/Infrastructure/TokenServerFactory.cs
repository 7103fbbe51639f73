using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace TokenServer.Tests.Infrastructure;

/// <summary>
/// One server per test: a fresh store of its own (a real SQLite file, so concurrent requests
/// behave as in production, or a fresh PostgreSQL database in the PostgreSQL build), a fake
/// clock, and a low BCrypt cost. Settings can be changed before the first request.
/// </summary>
public sealed class TokenServerFactory : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@tokenserver.test";
    public const string AdminPassword = "admin-password-123";

    private readonly TestStore store = TestStore.Create();

    public TestClock Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>Configuration keys as an operator would set them, applied when the server starts.</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["TokenServer:Passwords:WorkFactor"] = "4",
        ["TokenServer:Bootstrap:AdminEmail"] = AdminEmail,
        ["TokenServer:Bootstrap:AdminPassword"] = AdminPassword,

        // Every test's requests share one client address; tests of the limit itself lower it.
        ["TokenServer:RateLimits:PermitLimit"] = "100000",
    };

    /// <summary>Extra service registrations for one test (a log capture, say), applied after the app's own.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; set; }

    public TestStore Store => store;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", store.Provider);
        builder.UseSetting("ConnectionStrings:TokenServer", store.ConnectionString);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            ConfigureTestServices?.Invoke(services);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        store.Dispose();
    }
}

/// <summary>
/// The fake clock. Background loops run on it too, but at most once per fake minute:
/// advancing the clock by days must not fire a half-second poll timer a million times.
/// </summary>
public sealed class TestClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private static readonly TimeSpan MinimumPeriod = TimeSpan.FromMinutes(1);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        base.CreateTimer(
            callback,
            state,
            dueTime == Timeout.InfiniteTimeSpan || dueTime >= MinimumPeriod ? dueTime : MinimumPeriod,
            period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero || period >= MinimumPeriod ? period : MinimumPeriod);
}
