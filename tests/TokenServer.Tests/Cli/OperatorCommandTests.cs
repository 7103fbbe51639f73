using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Cli;

/// <summary>
/// The operator commands (CONTRACTS.md "Operator command line"), each run as a separate process
/// of the server binary on the test's store (SQLite here, PostgreSQL in TokenServer.Tests.Postgres).
/// </summary>
public sealed class OperatorCommandTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("migrate", "--help")]
    [InlineData("config", "check", "--help")]
    [InlineData("admin", "create", "--help")]
    [InlineData("accounts", "import", "--help")]
    [InlineData("accounts", "export", "--help")]
    [InlineData("accounts", "legacy-report", "--help")]
    [InlineData("keys", "list", "--help")]
    [InlineData("keys", "rotate", "--help")]
    [InlineData("keys", "withdraw", "--help")]
    [InlineData("clients", "add", "--help")]
    [InlineData("clients", "list", "--help")]
    [InlineData("service-users", "add", "--help")]
    [InlineData("service-users", "list", "--help")]
    [InlineData("prune", "--help")]
    [InlineData("store", "backup", "--help")]
    public async Task Help_IsPrinted_AndNothingStarts(params string[] args)
    {
        using var store = TestStore.Create();
        var result = await CliProcess.RunAsync(store, args);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_ExitsNonZero()
    {
        using var store = TestStore.Create();
        var result = await CliProcess.RunAsync(store, "frobnicate");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Unrecognized command or argument 'frobnicate'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_CreatesTheSchemaOnAnEmptyStore()
    {
        using var store = TestStore.Create();
        var result = await CliProcess.RunAsync(store, "migrate");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("Store schema is current.", result.Output.Trim());

        var report = await CliProcess.RunAsync(store, "accounts", "legacy-report");
        Assert.Equal("legacy\t0 of 0 accounts", report.Output.Trim());
    }

    [Fact]
    public async Task ConfigCheck_PassesOnAGoodConfiguration_AndNamesTheKeyOfABadOne()
    {
        using var store = TestStore.Create();
        var good = await CliProcess.RunAsync(store, "config", "check");
        Assert.True(good.ExitCode == 0, good.Error);
        Assert.StartsWith("Configuration is valid.\nstore: ", good.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var bad = await CliProcess.RunWithAsync(store, null, new Dictionary<string, string> { ["TokenServer__Passwords__WorkFactor"] = "99" }, "config", "check");
        Assert.Equal(1, bad.ExitCode);
        var line = Assert.Single(bad.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("TokenServer:Passwords:WorkFactor must be between 4 and 31", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminCreate_WithPasswordFromStdin_CreatesAnAdministratorWhoCanLogIn_AndResetsAnExistingOne()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();

        var created = await CliProcess.RunWithAsync(factory.Store, "operator-password-1", null, "admin", "create", "ops@example.org", "--password-stdin");
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal("Created administrator ops@example.org.", created.Output.Trim());
        var tokens = await client.LoginAsync("ops@example.org", "operator-password-1");
        using (var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal("admin", (await me.ReadJsonAsync()).GetProperty("role").GetString());
        }

        var reset = await CliProcess.RunWithAsync(factory.Store, "operator-password-2", null, "admin", "create", "ops@example.org", "--password-stdin");
        Assert.True(reset.ExitCode == 0, reset.Error);
        await client.LoginAsync("ops@example.org", "operator-password-2");

        var weak = await CliProcess.RunWithAsync(factory.Store, "short", null, "admin", "create", "ops2@example.org", "--password-stdin");
        Assert.Equal(1, weak.ExitCode);
        Assert.Equal("error: password: Use at least 8 characters.", weak.Error.Trim());
    }

    [Fact]
    public async Task AccountsImport_JsonLinesAndCsv_DryRun_LegacyReport_AndExportImportsBackUnchanged()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var django = await RealHashers.DjangoAsync("django-password-1");
        var directory = Directory.CreateTempSubdirectory("tokenserver-cli-");
        var jsonl = Path.Combine(directory.FullName, "users.jsonl");
        await File.WriteAllLinesAsync(jsonl,
        [
            JsonSerializer.Serialize(new { email = "dj@example.org", full_name = "Dj Ango", role = "curator", organizations = new[] { new { slug = "lab", role = "member" } }, password_hash = django["pbkdf2_sha256"] }),
            JsonSerializer.Serialize(new { email = "old@example.org", password_hash = "5f4dcc3b5aa765d61d8327deb882cf99", hash_format = "md5" }),
        ]);
        var csv = Path.Combine(directory.FullName, "users.csv");
        await File.WriteAllTextAsync(csv, "email,full_name,role,organizations,password_hash,hash_format,salt\nphp@example.org,P H,viewer,lab:admin;core,5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8,sha1,\n");

        var dry = await CliProcess.RunAsync(factory.Store, "accounts", "import", jsonl, "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.Error);
        Assert.Equal("dry run, would have: created 2, updated 0, skipped 0, refused 0", dry.Output.Trim());

        var first = await CliProcess.RunAsync(factory.Store, "accounts", "import", jsonl);
        Assert.Equal("created 2, updated 0, skipped 0, refused 0", first.Output.Trim());
        var fromCsv = await CliProcess.RunAsync(factory.Store, "accounts", "import", csv);
        Assert.True(fromCsv.ExitCode == 0, fromCsv.Error);
        Assert.Equal("created 1, updated 0, skipped 0, refused 0", fromCsv.Output.Trim());
        var again = await CliProcess.RunAsync(factory.Store, "accounts", "import", jsonl);
        Assert.Equal("created 0, updated 0, skipped 2, refused 0", again.Output.Trim());

        var report = await CliProcess.RunAsync(factory.Store, "accounts", "legacy-report");
        Assert.Equal("bcrypt(md5)\t1\nbcrypt(sha1)\t1\ndjango pbkdf2_sha256\t1\nlegacy\t3 of 4 accounts", report.Output.Trim().ReplaceLineEndings("\n"));

        await client.LoginAsync("dj@example.org", "django-password-1");
        await client.LoginAsync("php@example.org", "password");
        report = await CliProcess.RunAsync(factory.Store, "accounts", "legacy-report");
        Assert.Equal("bcrypt(md5)\t1\nlegacy\t1 of 4 accounts", report.Output.Trim().ReplaceLineEndings("\n"));

        var export = Path.Combine(directory.FullName, "export.jsonl");
        var exported = await CliProcess.RunAsync(factory.Store, "accounts", "export", export);
        Assert.True(exported.ExitCode == 0, exported.Error);
        var lines = await File.ReadAllLinesAsync(export);
        Assert.Equal(4, lines.Length);
        var dj = JsonDocument.Parse(lines.Single(l => l.Contains("dj@example.org", StringComparison.Ordinal))).RootElement;
        Assert.Equal(["email", "full_name", "role", "organizations", "password_hash", "hash_format"], dj.EnumerateObject().Select(p => p.Name));
        Assert.Equal("lab", dj.GetProperty("organizations")[0].GetProperty("slug").GetString());

        var reimport = await CliProcess.RunAsync(factory.Store, "accounts", "import", export);
        Assert.Equal("created 0, updated 0, skipped 4, refused 0", reimport.Output.Trim());

        var bad = Path.Combine(directory.FullName, "bad.jsonl");
        await File.WriteAllLinesAsync(bad, ["{\"email\": \"x@example.org\", \"password_hash\": \"what\"}", "not json"]);
        var refused = await CliProcess.RunAsync(factory.Store, "accounts", "import", bad);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused line 1: password_hash is in no format TokenServer knows", refused.Output, StringComparison.Ordinal);
        Assert.Contains("refused line 2: not a JSON object", refused.Output, StringComparison.Ordinal);
        Assert.Equal("error: 2 line(s) refused (listed above); the other lines were imported.", refused.Error.Trim());

        var missing = await CliProcess.RunAsync(factory.Store, "accounts", "import", Path.Combine(directory.FullName, "nope.jsonl"));
        Assert.Equal(1, missing.ExitCode);
        Assert.EndsWith("nope.jsonl does not exist.", missing.Error.Trim(), StringComparison.Ordinal);
        directory.Delete(recursive: true);
    }

    [Fact]
    public async Task KeysRotate_AddsTheNextKey_WhichKeysListShowsAndJwksPublishes()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var rotated = await CliProcess.RunAsync(factory.Store, "keys", "rotate");
        Assert.True(rotated.ExitCode == 0, rotated.Error);
        var kid = rotated.Output.Split(' ')[2];

        var list = await CliProcess.RunAsync(factory.Store, "keys", "list");
        var rows = list.Output.Trim().Split('\n').Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(["signing", "next"], rows.Select(r => r[4]));
        Assert.Equal(kid, rows[1][0]);

        using var scope = factory.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<TokenServer.Tokens.SigningKeyRing>().ReloadAsync(CancellationToken.None);
        var jwks = await client.GetStringAsync("/.well-known/jwks.json");
        Assert.Contains(kid, jwks, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_DeletesExpiredRows_AndReportsCounts()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        await client.RegisterAndLoginAsync("prune@example.org");
        var result = await CliProcess.RunAsync(factory.Store, "prune");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("deleted: refresh tokens 0, sessions 0, revoked token ids 0, audit events 0, account changes 0, MFA challenges 0, mailed links 0, personal access tokens 0, staged files 0", result.Output.Trim());
    }

    [Fact]
    public async Task StoreBackup_CopiesASqliteStoreOnline_OrSaysToUsePgDump()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        await client.RegisterAsync("kept@example.org");
        var target = Path.Combine(Path.GetTempPath(), $"tokenserver-backup-{Guid.NewGuid():N}.db");

        var result = await CliProcess.RunAsync(factory.Store, "store", "backup", target);

        if (factory.Store.Provider == "Postgres")
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("pg_dump", result.Error, StringComparison.Ordinal);
            return;
        }

        Assert.True(result.ExitCode == 0, result.Error);
        await using (var copy = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={target};Pooling=False"))
        {
            await copy.OpenAsync();
            await using var command = copy.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM accounts WHERE email = 'kept@example.org'";
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        }

        var again = await CliProcess.RunAsync(factory.Store, "store", "backup", target);
        Assert.Equal(1, again.ExitCode);
        Assert.EndsWith("exists; give a new file name.", again.Error.Trim(), StringComparison.Ordinal);
        File.Delete(target);
    }
}
