using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace TokenServer.Tests.Infrastructure;

/// <summary>
/// One server per test: a fresh SQLite file of its own (a real file, so concurrent requests
/// behave as in production), a fake clock, and a low BCrypt cost. Settings can be changed
/// before the first request.
/// </summary>
public sealed class TokenServerFactory : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@tokenserver.test";
    public const string AdminPassword = "admin-password-123";

    private readonly string databasePath = Path.Combine(Path.GetTempPath(), $"tokenserver-test-{Guid.NewGuid():N}.db");

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

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

    public string DatabasePath => databasePath;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:TokenServer", $"Data Source={databasePath}");
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
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(databasePath + suffix);
            }
            catch (IOException)
            {
                // A file still open on some platform is left for the OS temp cleaner.
            }
        }
    }
}
