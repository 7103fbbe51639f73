using System.Net;
using System.Net.Http.Json;
using System.Text;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>CONTRACTS.md "Passwords": the rule on every route that sets one, and NFKC before hashing.</summary>
public sealed class PasswordRuleTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    public static TheoryData<string, string> Refused => new()
    {
        { "with\0nul-inside", "control character" },
        { "tab\tinside-it", "control character" },
        { "          ", "only spaces" },
        { "password1", "most common passwords" },
        { "Sunshine1", "most common passwords" },
        { "bad\uD800surrogate", "UTF-8" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Register_RefusesThePassword_With400NamingTheRule(string password, string rule)
    {
        var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "rule@example.org", password, full_name = "R" });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
        var message = (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("password")[0].GetString();
        Assert.Contains(rule, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_WithInvalidUtf8Bytes_Returns400NotAnAccount()
    {
        var client = factory.CreateClient();
        var bytes = Encoding.UTF8.GetBytes("{\"email\":\"bytes@example.org\",\"full_name\":\"B\",\"password\":\"abc").Concat(new byte[] { 0xFF, 0xFE }).Concat(Encoding.UTF8.GetBytes("defghij\"}")).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");

        using var response = await client.PostAsync("/api/v1/auth/register", content);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task PasswordChange_AndAdminReset_RefuseACommonPassword_NamingTheRule()
    {
        var client = factory.CreateClient();
        var account = await client.RegisterAsync("change@example.org");
        var tokens = await client.LoginAsync("change@example.org");

        using var change = await client.PostJsonWithTokenAsync("/api/v1/auth/password", new { current_password = Api.Password, new_password = "iloveyou1" }, tokens.AccessToken);
        JsonAssert.IsProblem(change, HttpStatusCode.BadRequest);
        Assert.Contains("most common passwords", (await change.ReadJsonAsync()).GetProperty("errors").GetProperty("new_password")[0].GetString(), StringComparison.Ordinal);

        var admin = await client.LoginAdminAsync();
        using var reset = await client.PostJsonWithTokenAsync($"/api/v1/admin/accounts/{account.GetProperty("id").GetInt64()}/password", new { new_password = "with\0nul-inside" }, admin.AccessToken);
        JsonAssert.IsProblem(reset, HttpStatusCode.BadRequest);
        Assert.Contains("control character", (await reset.ReadJsonAsync()).GetProperty("errors").GetProperty("new_password")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SpacesInside_AreAllowed()
    {
        var client = factory.CreateClient();

        await client.RegisterAsync("spaces@example.org", password: "correct horse battery staple");
        await client.LoginAsync("spaces@example.org", "correct horse battery staple");
    }

    [Fact]
    public async Task Password_IsNormalisedWithNfkc_SoEitherFormLogsIn()
    {
        var client = factory.CreateClient();

        // U+FB01 (the "fi" ligature) and U+2460 (circled one) are NFKC-equal to "fi" and "1".
        await client.RegisterAsync("nfkc@example.org", password: "pro\uFB01le-secret-\u2460");

        await client.LoginAsync("nfkc@example.org", "profile-secret-1");
        await client.LoginAsync("nfkc@example.org", "pro\uFB01le-secret-\u2460");
    }
}
