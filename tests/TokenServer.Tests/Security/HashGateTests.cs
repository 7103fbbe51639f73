using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Auth;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// docs/security.md: with every hashing slot taken and the queue full, credential routes answer
/// 503 with Retry-After at once, while token validation and reads keep answering. The test
/// holds the gate itself, so saturation is certain rather than timed.
/// </summary>
public sealed class HashGateTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public HashGateTests()
    {
        factory.Settings["TokenServer:Passwords:MaxConcurrentHashes"] = "1";
        factory.Settings["TokenServer:Passwords:MaxQueuedHashes"] = "0";
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task Saturated_LoginAnswers503AtOnce_WhileProtectedReadsKeepWorking()
    {
        var client = factory.CreateClient();
        var tokens = await client.RegisterAndLoginAsync("flood@example.org");
        var gate = factory.Services.GetRequiredService<HashGate>();

        var lease = await gate.EnterAsync(CancellationToken.None);
        try
        {
            using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "flood@example.org", password = Api.Password });
            JsonAssert.IsProblem(login, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("1", Assert.Single(login.Headers.GetValues("Retry-After")));

            using var token = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = "flood@example.org",
                ["password"] = Api.Password,
            });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, token.StatusCode);
            Assert.True(token.Headers.Contains("Retry-After"));
            var oauth = await token.ReadJsonAsync();
            JsonAssert.HasExactly(oauth, "error", "error_description");
            Assert.Equal("temporarily_unavailable", oauth.GetProperty("error").GetString());

            using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);

            // A refresh hashes nothing: it keeps working too.
            using var refresh = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
            Assert.Equal(HttpStatusCode.OK, refresh.StatusCode);
        }
        finally
        {
            lease.Dispose();
        }

        Assert.Equal(0, gate.Pending);
        using var after = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "flood@example.org", password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Saturated_RegistrationAnswers503()
    {
        var client = factory.CreateClient();
        await client.LoginAdminAsync();
        var gate = factory.Services.GetRequiredService<HashGate>();
        using (await gate.EnterAsync(CancellationToken.None))
        {
            using var register = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "late@example.org", password = Api.Password, full_name = "Late" });
            JsonAssert.IsProblem(register, HttpStatusCode.ServiceUnavailable);
        }
    }
}
