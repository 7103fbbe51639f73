using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Auth;
using TokenServer.Tokens;

namespace TokenServer.Benchmarks;

/// <summary>
/// The per-request costs of token work, measured on the server's own services and
/// configuration (resolved from a real host on a throwaway SQLite store).
/// Run: dotnet run -c Release --project bench/TokenServer.Benchmarks
/// </summary>
[MemoryDiagnoser]
public class TokenBenchmarks
{
    private readonly string databasePath = Path.Combine(Path.GetTempPath(), $"tokenserver-bench-{Guid.NewGuid():N}.db");
    private WebApplicationFactory<global::Program> host = null!;
    private AccessTokenIssuer issuer = null!;
    private TokenValidationParameters validation = null!;
    private PasswordHasher hasher = null!;
    private string token = null!;
    private string passwordHash = null!;
    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false };
    private readonly TokenSubject subject = new("42", "bench@example.org", "bench", "researcher");
    private HttpContext context = null!;

    [Params(10)]
    public int WorkFactor { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        host = new WebApplicationFactory<global::Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("ConnectionStrings:TokenServer", $"Data Source={databasePath}");
            b.UseSetting("TokenServer:Passwords:WorkFactor", WorkFactor.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        host.CreateClient().Dispose();
        issuer = host.Services.GetRequiredService<AccessTokenIssuer>();
        validation = host.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        hasher = host.Services.GetRequiredService<PasswordHasher>();
        token = IssueAccessToken();
        passwordHash = hasher.HashAsync("bench-password-123", CancellationToken.None).GetAwaiter().GetResult();
        context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer " + token;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(databasePath);
    }

    [Benchmark(Description = "access token: create and sign (ES256)")]
    public string IssueAccessToken() =>
        issuer.Issue(subject, "session-id", "native", "tokenserver", TimeSpan.FromHours(1), DateTimeOffset.MaxValue).Token;

    [Benchmark(Description = "access token: validate (server's parameters)")]
    public async Task<bool> ValidateAccessToken() => (await handler.ValidateTokenAsync(token, validation)).IsValid;

    [Benchmark(Description = "refresh token: generate and hash")]
    public string RefreshToken() => OpaqueTokens.Hash(OpaqueTokens.Generate());

    [Benchmark(Description = "presented token: extract from headers")]
    public string? ExtractPresentedToken()
    {
        context.Items.Clear();
        return PresentedToken.From(context).Token;
    }

    [Benchmark(Description = "password: BCrypt verify")]
    public async Task<bool> VerifyPassword() => (await hasher.VerifyAsync("bench-password-123", passwordHash, CancellationToken.None)).Valid;
}

public static class BenchmarkProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(TokenBenchmarks).Assembly).Run(args);
}
