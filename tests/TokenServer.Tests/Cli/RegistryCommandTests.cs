using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Cli;

/// <summary>
/// The operator commands on the registries (CONTRACTS.md "Operator command line"): keys
/// withdraw, clients add/list, service-users add/list, each run as a separate process of the
/// server binary on the test's store (SQLite here, PostgreSQL in TokenServer.Tests.Postgres).
/// </summary>
public sealed class RegistryCommandTests
{
    [Fact]
    public async Task KeysWithdraw_RemovesTheKeyFromJwks_RefusesItsTokens_AndANewKeySigns()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var tokens = await client.RegisterAndLoginAsync("leak@example.org");
        var kid = Jwt.Header(tokens.AccessToken).GetProperty("kid").GetString()!;

        // A kid is base64url and may start with '-': "--" ends the options, as the command's help says.
        var withdrawn = await CliProcess.RunAsync(factory.Store, "keys", "withdraw", "--", kid);
        Assert.True(withdrawn.ExitCode == 0, withdrawn.Error);
        Assert.Equal($"Withdrew key {kid}: tokens it signed are refused from now on.", withdrawn.Output.Trim());

        var list = await CliProcess.RunAsync(factory.Store, "keys", "list");
        var rows = list.Output.Trim().Split('\n').Skip(1).Select(l => l.Trim().Split('\t')).ToList();
        Assert.Equal("withdrawn", rows.Single(r => r[0] == kid)[4]);
        Assert.Contains(rows, r => r[0] != kid && r[4] == "signing");

        using (var scope = factory.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenServer.Tokens.SigningKeyRing>().ReloadAsync(CancellationToken.None);
        }

        Assert.DoesNotContain(kid, await client.GetStringAsync("/.well-known/jwks.json"), StringComparison.Ordinal);
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        // The replacement key signs from the command's own (real) now; the test server's clock is a fake one that started earlier.
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        var fresh = await client.LoginAsync("leak@example.org");
        Assert.NotEqual(kid, Jwt.Header(fresh.AccessToken).GetProperty("kid").GetString());

        var again = await CliProcess.RunAsync(factory.Store, "keys", "withdraw", "--", kid);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: No published signing key has kid '{kid}' (it may be withdrawn already); 'keys list' shows the kids.", again.Error.Trim());
    }

    [Fact]
    public async Task ClientsAdd_ConfidentialClientsSecretIsPrintedOnceAndAuthenticates_ListShowsItWithoutTheSecret()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();

        var added = await CliProcess.RunAsync(factory.Store, "clients", "add", "Data portal", "--type", "confidential", "--client-id", "portal",
            "--redirect-uri", "https://portal.example.org/callback", "--scope", "openid", "--scope", "profile");
        Assert.True(added.ExitCode == 0, added.Error);
        var lines = added.Output.Trim().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("Registered client portal (confidential).", lines[0]);
        Assert.StartsWith("Client secret (shown once, store it now): ", lines[1], StringComparison.Ordinal);
        var secret = lines[1].Split(": ")[1];

        // The printed secret authenticates the client at the token endpoint (RFC 6749 §2.3.1): a
        // wrong one is invalid_client, the right one gets as far as the grant itself.
        using var right = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = "nope", ["client_id"] = "portal", ["client_secret"] = secret });
        Assert.Equal("invalid_grant", (await right.ReadJsonAsync()).GetProperty("error").GetString());
        using var wrong = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = "nope", ["client_id"] = "portal", ["client_secret"] = secret + "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var admin = (await client.LoginAdminAsync()).AccessToken;
        using var registered = await client.GetWithTokenAsync("/api/v1/admin/clients/portal", admin);
        var json = await registered.ReadJsonAsync();
        Assert.Equal("Data portal", json.GetProperty("name").GetString());
        Assert.Equal(["openid", "profile"], json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var publicClient = await CliProcess.RunAsync(factory.Store, "clients", "add", "Notebook", "--type", "public", "--redirect-uri", "http://127.0.0.1:8765/cb");
        Assert.True(publicClient.ExitCode == 0, publicClient.Error);
        Assert.Matches("^Registered client c_[0-9a-f]{24} \\(public\\)\\.$", publicClient.Output.Trim());

        var list = await CliProcess.RunAsync(factory.Store, "clients", "list");
        Assert.True(list.ExitCode == 0, list.Error);
        var rows = list.Output.Trim().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("client_id\ttype\tname\tgrant_types\tredirect_uris", rows[0]);
        Assert.Contains("portal\tconfidential\tData portal\tauthorization_code refresh_token\thttps://portal.example.org/callback", rows);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);

        var duplicate = await CliProcess.RunAsync(factory.Store, "clients", "add", "Again", "--type", "confidential", "--client-id", "portal", "--redirect-uri", "https://portal.example.org/callback");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal("error: A client with client_id 'portal' is already registered; choose another client_id.", duplicate.Error.Trim());

        var bad = await CliProcess.RunAsync(factory.Store, "clients", "add", "Bad", "--type", "public", "--redirect-uri", "http://evil.example.org/cb");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: redirect_uris: 'http://evil.example.org/cb' is not an acceptable redirect URI", bad.Error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceUsersAdd_PrintsTheSecretOnce_WhichGetsAClientCredentialsToken_AndListShowsTheServiceUser()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var admin = (await client.LoginAdminAsync()).AccessToken;
        (await client.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug = "lab", name = "Lab" }, admin)).Dispose();

        var added = await CliProcess.RunAsync(factory.Store, "service-users", "add", "lab", "pipeline-uploader", "--role", "curator");
        Assert.True(added.ExitCode == 0, added.Error);
        var lines = added.Output.Trim().ReplaceLineEndings("\n").Split('\n');
        Assert.Matches("^Created service user pipeline-uploader in lab \\(curator\\): client_id su_[0-9a-f]{24}$", lines[0]);
        var clientId = lines[0].Split("client_id ")[1];
        Assert.StartsWith("Client secret (shown once, store it now): ", lines[1], StringComparison.Ordinal);
        var secret = lines[1].Split(": ")[1];

        using var token = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret });
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var accessToken = (await token.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        using (var me = await client.GetWithTokenAsync("/api/v1/auth/me", accessToken))
        {
            Assert.Equal("curator", (await me.ReadJsonAsync()).GetProperty("role").GetString());
        }

        var list = await CliProcess.RunAsync(factory.Store, "service-users", "list");
        Assert.True(list.ExitCode == 0, list.Error);
        var rows = list.Output.Trim().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("organization\tname\trole\tclient_id\tcreated", rows[0]);
        Assert.StartsWith($"lab\tpipeline-uploader\tcurator\t{clientId}\t", rows[1], StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);

        var viaApi = await client.GetWithTokenAsync("/api/v1/organizations/lab/service-users", admin);
        Assert.Equal(clientId, JsonDocument.Parse(await viaApi.Content.ReadAsStringAsync()).RootElement[0].GetProperty("client_id").GetString());

        var noOrganization = await CliProcess.RunAsync(factory.Store, "service-users", "add", "nowhere", "robot");
        Assert.Equal(1, noOrganization.ExitCode);
        Assert.Equal("error: No organization has the slug 'nowhere'; create it first (POST /api/v1/admin/organizations).", noOrganization.Error.Trim());

        var admin2 = await CliProcess.RunAsync(factory.Store, "service-users", "add", "lab", "robot", "--role", "admin");
        Assert.Equal(1, admin2.ExitCode);
        Assert.Equal("error: role: Choose one of: viewer, researcher, curator.", admin2.Error.Trim());
    }
}
