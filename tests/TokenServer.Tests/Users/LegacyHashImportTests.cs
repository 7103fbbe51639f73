using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;
using TokenServer.Users;

namespace TokenServer.Tests.Users;

/// <summary>
/// Each legacy format, made by its real implementation (Django, passlib, ASP.NET Core
/// Identity's PasswordHasher) or by Python's hashlib where the format is a plain derivation
/// (Keycloak's PBKDF2, salted digests): imported, the original password logs in, the login
/// moves the account to BCrypt in the store, and a wrong password gets the unknown-account answer.
/// </summary>
public sealed class LegacyHashImportTests
{
    private const string Password = "Tr0ub4dor&3-legacy";

    // One run of each real hasher for the whole class: Django's argon2 and PBKDF2 defaults are slow on purpose.
    private static readonly Lazy<Task<Dictionary<string, string>>> Django = new(() => RealHashers.DjangoAsync(Password));
    private static readonly Lazy<Task<Dictionary<string, string>>> Passlib = new(() => RealHashers.PasslibAsync(Password));

    public static TheoryData<string> DjangoHashers => ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "sha1", "md5", "unsalted_md5"];

    public static TheoryData<string> PasslibSchemes => ["bcrypt", "pbkdf2_sha256", "argon2"];

    [Theory]
    [MemberData(nameof(DjangoHashers))]
    public async Task DjangoHash_LogsInWithOriginalPassword_AndIsRehashedToBcrypt(string hasher)
    {
        var hashes = await Django.Value;

        // Django's unsalted MD5 hasher writes a bare hex digest, which names no format.
        await AssertImportedAccountLogsIn(new AccountLine { Email = "django@example.org", PasswordHash = hashes[hasher], HashFormat = hasher == "unsalted_md5" ? "md5" : null });
    }

    [Theory]
    [MemberData(nameof(PasslibSchemes))]
    public async Task PasslibHash_LogsInWithOriginalPassword_AndIsRehashedToBcrypt(string scheme)
    {
        var hashes = await Passlib.Value;
        await AssertImportedAccountLogsIn(new AccountLine { Email = "passlib@example.org", PasswordHash = hashes[scheme] });
    }

    [Theory]
    [InlineData(PasswordHasherCompatibilityMode.IdentityV2)]
    [InlineData(PasswordHasherCompatibilityMode.IdentityV3)]
    public async Task AspNetIdentityHash_LogsInWithOriginalPassword_AndIsRehashedToBcrypt(PasswordHasherCompatibilityMode mode)
    {
        var hasher = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { CompatibilityMode = mode }));
        var hash = hasher.HashPassword(new object(), Password);
        await AssertImportedAccountLogsIn(new AccountLine { Email = "identity@example.org", PasswordHash = hash, HashFormat = "aspnet-identity" });
    }

    [Fact]
    public async Task KeycloakCredential_LogsInWithOriginalPassword_AndIsRehashedToBcrypt()
    {
        // A realm export's password credential: secretData and credentialData are JSON strings.
        var made = await RealHashers.RunAsync($$$"""
            import base64, hashlib, json, os
            salt = os.urandom(16)
            value = hashlib.pbkdf2_hmac('sha256', {{{System.Text.Json.JsonSerializer.Serialize(Password)}}}.encode(), salt, 27500, 64)
            credential = {'type': 'password', 'createdDate': 1700000000000,
                'secretData': json.dumps({'value': base64.b64encode(value).decode(), 'salt': base64.b64encode(salt).decode(), 'additionalParameters': {}}),
                'credentialData': json.dumps({'hashIterations': 27500, 'algorithm': 'pbkdf2-sha256', 'additionalParameters': {}})}
            print(json.dumps({'credential': json.dumps(credential)}))
            """);
        await AssertImportedAccountLogsIn(new AccountLine { Email = "keycloak@example.org", PasswordHash = made["credential"], HashFormat = "keycloak" });
    }

    [Theory]
    [InlineData("sha256-salted")]
    [InlineData("sha1-salted")]
    public async Task SaltedDigest_LogsIn_AndNoFastHashIsStoredEvenBeforeLogin(string format)
    {
        var algorithm = format.Split('-')[0];
        var made = await RealHashers.RunAsync($$"""
            import hashlib, json
            print(json.dumps({'hex': hashlib.{{algorithm}}(b'pepper-salt' + {{System.Text.Json.JsonSerializer.Serialize(Password)}}.encode()).hexdigest()}))
            """);
        await AssertImportedAccountLogsIn(new AccountLine { Email = "php@example.org", PasswordHash = made["hex"], HashFormat = format, Salt = "pepper-salt" }, fastHex: made["hex"]);
    }

    [Theory]
    [InlineData("md5", "password", "5f4dcc3b5aa765d61d8327deb882cf99")]
    [InlineData("sha1", "password", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8")]
    public async Task UnsaltedDigest_PublishedVector_LogsIn_AndNoFastHashIsStored(string format, string password, string hex)
    {
        await AssertImportedAccountLogsIn(new AccountLine { Email = "perl@example.org", PasswordHash = hex, HashFormat = format }, fastHex: hex, password: password);
    }

    [Fact]
    public async Task Import_IsIdempotent_AndDryRunChangesNothing()
    {
        using var factory = new TokenServerFactory();
        _ = factory.CreateClient();
        var hashes = await Django.Value;
        AccountLine[] file =
        [
            new() { Email = "a@example.org", FullName = "A", PasswordHash = hashes["pbkdf2_sha256"], Organizations = [new() { Slug = "lab", Role = "admin" }] },
            new() { Email = "b@example.org", PasswordHash = "5f4dcc3b5aa765d61d8327deb882cf99", HashFormat = "md5" },
            new() { Email = "not-an-email", PasswordHash = hashes["md5"] },
            new() { Email = "c@example.org", PasswordHash = "5f4dcc3b5aa765d61d8327deb882cf99" },
        ];

        var dry = await ImportAsync(factory, file, dryRun: true);
        Assert.Equal((2, 0, 0, 2), (dry.Created, dry.Updated, dry.Skipped, dry.Refused));
        Assert.Equal(1, await CountAccountsAsync(factory));

        var first = await ImportAsync(factory, file);
        Assert.Equal((2, 0, 0, 2), (first.Created, first.Updated, first.Skipped, first.Refused));
        Assert.Contains(first.Problems, p => p.StartsWith("line 3: email:", StringComparison.Ordinal));
        Assert.Contains(first.Problems, p => p.StartsWith("line 4: password_hash looks like a bare hex digest", StringComparison.Ordinal));

        var again = await ImportAsync(factory, file);
        Assert.Equal((0, 0, 2, 2), (again.Created, again.Updated, again.Skipped, again.Refused));

        file[0].FullName = "A. Renamed";
        var renamed = await ImportAsync(factory, file);
        Assert.Equal((0, 1, 1), (renamed.Created, renamed.Updated, renamed.Skipped));
        Assert.Equal(3, await CountAccountsAsync(factory));

        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var a = await db.Accounts.Include(x => x.Memberships).ThenInclude(m => m.Organization).SingleAsync(x => x.Email == "a@example.org");
        Assert.Equal("A. Renamed", a.FullName);
        Assert.Equal(("lab", "admin"), (a.Memberships.Single().Organization.Slug, a.Memberships.Single().Role));
    }

    [Fact]
    public async Task Import_DoesNotReplaceAPasswordAlreadyMovedToBcrypt()
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var hashes = await Django.Value;
        AccountLine[] file = [new() { Email = "moved@example.org", PasswordHash = hashes["pbkdf2_sha256"] }];
        await ImportAsync(factory, file);
        await client.LoginAsync("moved@example.org", Password);

        var again = await ImportAsync(factory, file);

        Assert.Equal(1, again.Skipped);
        Assert.StartsWith("$2", await StoredHashAsync(factory, "moved@example.org"), StringComparison.Ordinal);
    }

    private static async Task AssertImportedAccountLogsIn(AccountLine line, string? fastHex = null, string password = Password)
    {
        using var factory = new TokenServerFactory();
        var client = factory.CreateClient();
        var report = await ImportAsync(factory, [line]);
        Assert.True(report.Created == 1, string.Join("; ", report.Problems));

        var imported = await StoredHashAsync(factory, line.Email!);
        Assert.DoesNotMatch("^\\$2", imported);
        if (fastHex is not null)
        {
            Assert.DoesNotContain(fastHex, imported, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith("bcrypt(", imported, StringComparison.Ordinal);
        }

        // A wrong password: the same answer as an account that does not exist, and no upgrade.
        using var wrong = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = line.Email, password = password + "x" });
        using var unknown = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.org", password });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(unknown.StatusCode, wrong.StatusCode);
        Assert.Equal(unknown.Content.Headers.ContentType, wrong.Content.Headers.ContentType);
        Assert.Equal(WithoutTraceId(await unknown.Content.ReadAsStringAsync()), WithoutTraceId(await wrong.Content.ReadAsStringAsync()));
        Assert.Equal(imported, await StoredHashAsync(factory, line.Email!));

        var tokens = await client.LoginAsync(line.Email!, password);
        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
        var upgraded = await StoredHashAsync(factory, line.Email!);
        Assert.StartsWith("$2", upgraded, StringComparison.Ordinal);
        Assert.True(BCrypt.Net.BCrypt.EnhancedVerify(password, upgraded, BCrypt.Net.HashType.SHA384));
        await client.LoginAsync(line.Email!, password);
    }

    /// <summary>Problem details carry a per-request traceId; everything else must match.</summary>
    private static string WithoutTraceId(string body)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        json.Remove("traceId");
        return json.ToJsonString();
    }

    private static async Task<ImportReport> ImportAsync(TokenServerFactory factory, AccountLine[] lines, bool dryRun = false)
    {
        using var scope = factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AccountImport>().ImportAsync(Read(lines), dryRun, CancellationToken.None);
    }

    private static async IAsyncEnumerable<ReadLine> Read(AccountLine[] lines, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        for (var i = 0; i < lines.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ReadLine(i + 1, lines[i], null);
        }
    }

    private static async Task<string> StoredHashAsync(TokenServerFactory factory, string email)
    {
        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        return await db.Accounts.Where(a => a.Email == email).Select(a => a.PasswordHash).SingleAsync();
    }

    private static async Task<int> CountAccountsAsync(TokenServerFactory factory)
    {
        using var scope = factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenServerDb>().Accounts.CountAsync();
    }
}
