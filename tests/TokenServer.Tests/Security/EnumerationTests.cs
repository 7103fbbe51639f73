using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// docs/security.md (CONTRACTS.md "Everywhere"): unknown account, wrong password, disabled and
/// locked accounts are indistinguishable on the wire. Timing is covered by the dummy hash in
/// CredentialChecker, not by a timed test.
/// </summary>
public sealed class EnumerationTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public EnumerationTests()
    {
        factory.Settings["TokenServer:Lockout:Threshold"] = "2";
        client = factory.CreateClient();
    }

    public void Dispose() => factory.Dispose();

    private async Task PrepareAccountsAsync()
    {
        await client.RegisterAsync("wrong@example.org");
        var disabled = await client.RegisterAsync("disabled@example.org");
        await client.RegisterAsync("locked@example.org");

        var admin = await client.LoginAdminAsync();
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{disabled.GetProperty("id").GetInt64()}")
        {
            Content = JsonContent.Create(new { status = "disabled" }),
        }.WithBearer(admin.AccessToken);
        using var patched = await client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        for (var i = 0; i < 2; i++)
        {
            (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "locked@example.org", password = "wrong-password" })).Dispose();
        }
    }

    /// <summary>Problem details carry a per-request traceId (correlation, not account state); everything else must match byte for byte.</summary>
    private static string WithoutTraceId(string body)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        Assert.NotNull(json["traceId"]);
        json.Remove("traceId");
        return json.ToJsonString();
    }

    [Fact]
    public async Task NativeLogin_UnknownWrongDisabledLocked_SameStatusAndBody()
    {
        await PrepareAccountsAsync();
        var cases = new[]
        {
            ("nobody@example.org", Api.Password),
            ("wrong@example.org", "wrong-password"),
            ("disabled@example.org", Api.Password),
            ("locked@example.org", Api.Password),
        };

        var answers = new List<(HttpStatusCode Status, string? Type, string Body)>();
        foreach (var (email, password) in cases)
        {
            using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
            answers.Add((response.StatusCode, response.Content.Headers.ContentType?.ToString(), WithoutTraceId(await response.Content.ReadAsStringAsync())));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, answers[0].Status);
        Assert.Equal("application/problem+json", answers[0].Type);
        Assert.All(answers, a => Assert.Equal(answers[0], a));
    }

    [Fact]
    public async Task OAuthPasswordGrant_UnknownWrongDisabledLocked_SameStatusAndBody()
    {
        await PrepareAccountsAsync();
        var cases = new[]
        {
            ("nobody@example.org", Api.Password),
            ("wrong@example.org", "wrong-password"),
            ("disabled@example.org", Api.Password),
            ("locked@example.org", Api.Password),
        };

        var answers = new List<(HttpStatusCode Status, string? Type, string Body)>();
        foreach (var (username, password) in cases)
        {
            using var response = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = username,
                ["password"] = password,
            });
            answers.Add((response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync()));
        }

        Assert.Equal(HttpStatusCode.BadRequest, answers[0].Status);
        Assert.Contains("invalid_grant", answers[0].Body, StringComparison.Ordinal);
        Assert.All(answers, a => Assert.Equal(answers[0], a));
    }
}
