using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tokens;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md: cache and security headers, and no secret in any log line.</summary>
public sealed class HeadersAndLogsTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task EveryResponse_CarriesSecurityHeaders_AndNoHstsOverPlainHttp()
    {
        var client = factory.CreateClient();

        using var response = await client.GetAsync("/api/v1/health");

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task OverHttps_ResponsesCarryHsts()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });

        using var response = await client.GetAsync("/api/v1/health");

        Assert.StartsWith("max-age=", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesCarryingTokens_AreNoStore()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("cache@example.org");

        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "cache@example.org", password = Api.Password });
        var refresh = (await login.ReadJsonAsync()).GetProperty("refresh_token").GetString()!;
        using var refreshed = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = refresh });
        using var token = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "cache@example.org", ["password"] = Api.Password });
        using var failed = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "cache@example.org", password = "wrong-password" });

        foreach (var response in new[] { login, refreshed, token, failed })
        {
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }
    }

    [Fact]
    public async Task FullFlow_LogsAtTraceLevel_ContainNoPasswordTokenOrKey()
    {
        var capture = new CapturingLoggerProvider();
        factory.ConfigureTestServices = services => services.AddSingleton<ILoggerProvider>(capture);
        factory.Settings["Logging:LogLevel:Default"] = "Trace";
        factory.Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
        factory.Settings["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Trace";
        var client = factory.CreateClient();
        const string password = "Correct-Horse-Battery-Staple-42";
        const string wrongPassword = "Wrong-Horse-Battery-Staple-99";
        var secrets = new List<string> { password, wrongPassword };

        await client.RegisterAsync("logs@example.org", password: password);
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "logs@example.org", password = wrongPassword })).Dispose();
        var first = await client.LoginAsync("logs@example.org", password);
        secrets.Add(first.AccessToken);
        secrets.Add(first.RefreshToken);

        using var refreshed = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.RefreshToken });
        var second = await refreshed.ReadJsonAsync();
        secrets.Add(second.GetProperty("access_token").GetString()!);
        secrets.Add(second.GetProperty("refresh_token").GetString()!);
        (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.RefreshToken })).Dispose(); // reuse

        using var oauth = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "logs@example.org", ["password"] = password });
        var third = await oauth.ReadJsonAsync();
        var thirdAccess = third.GetProperty("access_token").GetString()!;
        var thirdRefresh = third.GetProperty("refresh_token").GetString()!;
        secrets.Add(thirdAccess);
        secrets.Add(thirdRefresh);
        (await client.GetWithTokenAsync("/api/v1/auth/me", thirdAccess)).Dispose();
        (await client.GetWithTokenAsync("/api/v1/auth/me", thirdAccess + "x")).Dispose();
        (await client.PostFormAsync("/api/v1/auth/revoke", new Dictionary<string, string> { ["token"] = thirdRefresh }, thirdAccess)).Dispose();

        var fourth = await client.LoginAsync("logs@example.org", password);
        secrets.Add(fourth.AccessToken);
        secrets.Add(fourth.RefreshToken);
        (await client.PostFormAsync("/api/v1/auth/revoke", new Dictionary<string, string> { ["token"] = fourth.AccessToken }, fourth.AccessToken)).Dispose();
        var fifth = await client.LoginAsync("logs@example.org", password);
        secrets.Add(fifth.AccessToken);
        (await client.PostJsonWithTokenAsync("/api/v1/auth/logout", new { refresh_token = fifth.RefreshToken }, fifth.AccessToken)).Dispose();
        secrets.Add(fifth.RefreshToken);

        var key = ((ECDsaSecurityKey)factory.Services.GetRequiredService<SigningKeyRing>().CurrentSigningCredentials.Key).ECDsa.ExportParameters(true);
        secrets.Add(Base64UrlEncoder.Encode(key.D));
        secrets.Add(Convert.ToBase64String(key.D!));

        // Signatures alone would let a reader recognise a token; check them too.
        secrets.AddRange(secrets.Where(s => s.Count(c => c == '.') == 2).Select(s => s.Split('.')[2]).ToList());

        var lines = capture.Lines.ToList();
        Assert.True(lines.Count > 50, $"only {lines.Count} log lines were captured; is the capture wired?");
        Assert.Contains(lines, l => l.Contains("/api/v1/auth/login", StringComparison.Ordinal));
        var leaks = lines.Where(l => secrets.Any(s => l.Contains(s, StringComparison.Ordinal))).ToList();
        Assert.Empty(leaks);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                lines.Enqueue($"{category} scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join("; ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {structured} | {exception}");
            }
        }
    }
}
