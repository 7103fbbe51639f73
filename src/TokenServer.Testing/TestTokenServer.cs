using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace TokenServer.Testing;

/// <summary>The login API a token is minted through: TokenServer's own, or one of the platforms it stands in for (CONTRACTS.md).</summary>
public enum Dialect
{
    /// <summary>POST /api/v1/auth/login (SeqDB).</summary>
    Native,

    /// <summary>POST /platform-api/api/core-api/auth/token/ (SimpleJWT).</summary>
    LifeNome,

    /// <summary>GET /api/login with HTTP Basic.</summary>
    TrackHub,

    /// <summary>POST /v1/login.</summary>
    NeMO,

    /// <summary>POST /login.</summary>
    TetraScience,
}

/// <summary>An account made by <see cref="TestTokenServer.CreateAccountAsync"/>; <see cref="Password"/> logs it in.</summary>
public sealed record TestAccount(long Id, string Email, string Username, string Role, string Password);

/// <summary>A service user made by <see cref="TestTokenServer.CreateServiceUserAsync"/>, with its client credentials.</summary>
public sealed record TestServiceUser(long Id, string Organization, string ClientId, string ClientSecret);

/// <summary>
/// TokenServer started in process (ASP.NET Core's WebApplicationFactory over a fresh SQLite file),
/// for the tests of an API that trusts its tokens. Everything is made through TokenServer's own
/// HTTP API as its administrator, and tokens come from the real login routes, so a token here is
/// exactly what a client of the API would present.
/// </summary>
public sealed class TestTokenServer : IDisposable
{
    /// <summary>The issuer (<c>iss</c>) by default; no DNS name is needed, requests go to the in-process server.</summary>
    public const string DefaultIssuer = "https://tokenserver.test";

    public const string DefaultAudience = "tokenserver";

    private readonly InProcessTokenServer factory;
    private readonly string databasePath = Path.Combine(Path.GetTempPath(), $"tokenserver-testing-{Guid.NewGuid():N}.db");
    private readonly string adminEmail = "admin@tokenserver.test";
    private readonly string adminPassword = NewPassword();
    private readonly HttpClient client;
    private string? adminToken;

    /// <summary>Starts TokenServer; <paramref name="settings"/> adds configuration keys as an operator would set them (for example <c>TokenServer:Issuer</c>).</summary>
    public TestTokenServer(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["ConnectionStrings:TokenServer"] = $"Data Source={databasePath}",
            ["TokenServer:Issuer"] = DefaultIssuer,
            ["TokenServer:Audience"] = DefaultAudience,
            ["TokenServer:Bootstrap:AdminEmail"] = adminEmail,
            ["TokenServer:Bootstrap:AdminPassword"] = adminPassword,

            // BCrypt's lowest cost and no rate limit: a test suite logs in often, from one address.
            ["TokenServer:Passwords:WorkFactor"] = "4",
            ["TokenServer:RateLimits:PermitLimit"] = "1000000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        factory = new InProcessTokenServer(all);
        client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(Issuer), AllowAutoRedirect = false });
    }

    public string Issuer => factory.Settings["TokenServer:Issuer"]!;

    public string Audience => factory.Settings["TokenServer:Audience"]!;

    /// <summary>A client of TokenServer's own API (no credentials).</summary>
    public HttpClient CreateClient() => factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(Issuer), AllowAutoRedirect = false });

    /// <summary>A handler that sends requests to the in-process TokenServer, whatever their host.</summary>
    public HttpMessageHandler CreateHandler() => factory.Server.CreateHandler();

    /// <summary>
    /// Points a JwtBearer at this server: its issuer as the authority, discovery and JWKS fetched
    /// through the in-process server, and its audience unless the API chose one.
    /// </summary>
    public void ConfigureJwtBearer(JwtBearerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Authority = Issuer;
        options.Audience ??= Audience;
        options.Backchannel = new HttpClient(CreateHandler());

        // JwtBearer made its configuration manager before this ran; it must use the in-process server too.
        options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
            Issuer.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(options.Backchannel) { RequireHttps = options.RequireHttpsMetadata });
    }

    /// <summary>Creates an account with a random password; <paramref name="username"/> defaults to the email's local part (the LifeNome, NeMO and TrackHub logins use it).</summary>
    public async Task<TestAccount> CreateAccountAsync(string email, string role = "researcher", string? username = null, string fullName = "Test User")
    {
        username ??= email.Split('@')[0];
        var password = NewPassword();
        using var response = await SendAsAdminAsync(HttpMethod.Post, "/api/v1/auth/register", new { email, password, full_name = fullName, role, username });
        var json = await ReadAsync(response, HttpStatusCode.Created);
        return new TestAccount(json.GetProperty("id").GetInt64(), email, username, role, password);
    }

    public async Task CreateOrganizationAsync(string slug, string? name = null)
    {
        using var response = await SendAsAdminAsync(HttpMethod.Post, "/api/v1/admin/organizations", new { slug, name = name ?? slug });
        await ReadAsync(response, HttpStatusCode.Created);
    }

    /// <summary>Makes the account a member of the organization; <paramref name="role"/> is <c>member</c> or <c>admin</c>.</summary>
    public async Task AddMemberAsync(string organization, TestAccount account, string role = "member")
    {
        ArgumentNullException.ThrowIfNull(account);
        using var response = await SendAsAdminAsync(HttpMethod.Post, $"/api/v1/organizations/{organization}/members", new { email = account.Email, role });
        await ReadAsync(response, HttpStatusCode.Created);
    }

    public async Task<TestServiceUser> CreateServiceUserAsync(string organization, string name, string role = "researcher")
    {
        using var response = await SendAsAdminAsync(HttpMethod.Post, $"/api/v1/organizations/{organization}/service-users", new { name, role });
        var json = await ReadAsync(response, HttpStatusCode.Created);
        return new TestServiceUser(json.GetProperty("id").GetInt64(), organization, json.GetProperty("client_id").GetString()!, json.GetProperty("client_secret").GetString()!);
    }

    /// <summary>Logs the account in through <paramref name="dialect"/>'s login route and returns its access token.</summary>
    public async Task<string> GetTokenAsync(TestAccount account, Dialect dialect = Dialect.Native)
    {
        ArgumentNullException.ThrowIfNull(account);
        using var request = dialect switch
        {
            Dialect.Native => Json(HttpMethod.Post, "/api/v1/auth/login", new { email = account.Email, password = account.Password }),
            Dialect.LifeNome => Json(HttpMethod.Post, "/platform-api/api/core-api/auth/token/", new { username = account.Username, password = account.Password }),
            Dialect.NeMO => Json(HttpMethod.Post, "/v1/login", new { username = account.Username, password = account.Password }),
            Dialect.TetraScience => Json(HttpMethod.Post, "/login", new { email = account.Email, password = account.Password }),
            Dialect.TrackHub => new HttpRequestMessage(HttpMethod.Get, "/api/login")
            {
                Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{account.Username}:{account.Password}"))) },
            },
            _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Not a dialect of TokenServer."),
        };
        using var response = await client.SendAsync(request);
        var json = await ReadAsync(response, HttpStatusCode.OK);
        var field = dialect switch
        {
            Dialect.LifeNome => "access",
            Dialect.NeMO => "jwt",
            Dialect.TetraScience => "token",
            Dialect.TrackHub => "auth_token",
            _ => "access_token",
        };
        return json.GetProperty(field).GetString()!;
    }

    /// <summary>A service user's access token by the client_credentials grant (RFC 6749 §4.4).</summary>
    public async Task<string> GetTokenAsync(TestServiceUser serviceUser)
    {
        ArgumentNullException.ThrowIfNull(serviceUser);
        using var response = await client.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = serviceUser.ClientId,
            ["client_secret"] = serviceUser.ClientSecret,
        }));
        return (await ReadAsync(response, HttpStatusCode.OK)).GetProperty("access_token").GetString()!;
    }

    public void Dispose()
    {
        client.Dispose();
        factory.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(databasePath + suffix);
        }
    }

    private static string NewPassword() => "Ts-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static HttpRequestMessage Json(HttpMethod method, string path, object body) => new(method, path) { Content = JsonContent.Create(body) };

    private async Task<HttpResponseMessage> SendAsAdminAsync(HttpMethod method, string path, object body)
    {
        if (adminToken is null)
        {
            using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = adminEmail, password = adminPassword });
            adminToken = (await ReadAsync(login, HttpStatusCode.OK)).GetProperty("access_token").GetString();
        }

        using var request = Json(method, path, body);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        return await client.SendAsync(request);
    }

    /// <summary>TokenServer's answer as JSON; any other status fails the test with TokenServer's own message.</summary>
    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"TokenServer answered {(int)response.StatusCode} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {text}");
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private sealed class InProcessTokenServer(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        public Dictionary<string, string?> Settings { get; } = settings;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            foreach (var (key, value) in Settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
