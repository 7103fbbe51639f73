using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using TokenServer.Email;
using TokenServer.Mfa;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// Store pruning (the server's timer and the CLI's <c>prune</c> run the same <see cref="StorePruning"/>)
/// also deletes spent MFA challenges, mailed links and personal access tokens once
/// TokenServer:Pruning:SpentCredentialRetention has passed since they expired, were used or were revoked.
/// </summary>
public sealed class SpentCredentialPruningTests : IDisposable
{
    private const string Email = "spent@example.org";
    private readonly TokenServerFactory factory = new();

    public SpentCredentialPruningTests()
    {
        factory.Settings["TokenServer:Pruning:SpentCredentialRetention"] = "1.00:00:00";
        factory.Settings["TokenServer:Email:ResetLinkLifetime"] = "01:00:00";

        // Background loops slowed, so only the explicit passes below prune.
        factory.Settings["TokenServer:Pruning:Interval"] = "1.00:00:00";
        factory.Settings["TokenServer:RevocationPollInterval"] = "06:00:00";
        factory.Settings["TokenServer:Keys:ReloadInterval"] = "06:00:00";
    }

    public void Dispose() => factory.Dispose();

    private async Task<T> Query<T>(Func<TokenServerDb, Task<T>> query)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TokenServerDb>());
    }

    private async Task<PruneCounts> PruneAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<StorePruning>().PruneAsync(CancellationToken.None);
    }

    private async Task<string> TokenAsync(HttpClient client, string bearer, string name, DateTimeOffset? expiresAt = null)
    {
        using var response = await client.PostJsonWithTokenAsync("/api/v1/auth/personal-access-tokens",
            expiresAt is null ? new { name, scopes = new[] { "read" } } : new { name, scopes = new[] { "read" }, expires_at = expiresAt }, bearer);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task Prune_DeletesSpentChallengesLinksAndTokens_AfterTheRetention_AndKeepsLiveOnes()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync(Email);
        var login = (await client.LoginAsync(Email)).AccessToken;

        // Personal access tokens: one revoked, one expiring in an hour, one live for 30 days.
        await TokenAsync(client, login, "revoked");
        var list = await (await client.GetWithTokenAsync("/api/v1/auth/personal-access-tokens", login)).ReadJsonAsync();
        using (var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/personal-access-tokens/{list[0].GetProperty("id").GetString()}").WithBearer(login))
        using (var revoked = await client.SendAsync(revoke))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await TokenAsync(client, login, "short", factory.Time.GetUtcNow().AddHours(1));
        var live = await TokenAsync(client, login, "live");

        // A password-reset link (written by the background mailer, after the registration's
        // verification link, which lives two days) and an MFA challenge.
        using (var forgot = await client.PostJsonWithTokenAsync("/api/v1/auth/password/forgot", new { email = Email }, login))
        {
            Assert.Equal(HttpStatusCode.Accepted, forgot.StatusCode);
        }

        for (var i = 0; i < 200 && await Query(db => db.Set<AccountToken>().CountAsync()) < 2; i++)
        {
            await Task.Delay(25);
        }

        using (var enrol = await client.PostJsonWithTokenAsync("/api/v1/auth/mfa/totp", new { }, login))
        {
            var secret = (await enrol.ReadJsonAsync()).GetProperty("secret").GetString()!;
            var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(factory.Time.GetUtcNow().UtcDateTime);
            using var confirmed = await client.PostJsonWithTokenAsync("/api/v1/auth/mfa/totp/confirm", new { code }, login);
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        }

        using (var challenged = await client.PostJsonWithTokenAsync("/api/v1/auth/login", new { email = Email, password = Api.Password }, login))
        {
            Assert.Equal("mfa_required", (await challenged.ReadJsonAsync()).GetProperty("error").GetString());
        }

        Assert.Equal(2, await Query(db => db.Set<AccountToken>().CountAsync()));
        Assert.Equal(1, await Query(db => db.Set<MfaChallenge>().CountAsync()));
        Assert.Equal(3, await Query(db => db.Set<PersonalAccessToken>().CountAsync()));

        // Two hours on: all spent, none past the one-day retention yet.
        factory.Time.Advance(TimeSpan.FromHours(2));
        var early = await PruneAsync();
        Assert.Equal(0, early.Steps.Sum(s => s.Count));
        Assert.Equal(2, await Query(db => db.Set<AccountToken>().CountAsync()));
        Assert.Equal(1, await Query(db => db.Set<MfaChallenge>().CountAsync()));
        Assert.Equal(3, await Query(db => db.Set<PersonalAccessToken>().CountAsync()));

        // A day later: the spent rows go; the live token (and the unexpired verification link) stay.
        factory.Time.Advance(TimeSpan.FromDays(1));
        // (The background pass, due after a day on the fake clock, may delete them first.)
        var late = await PruneAsync();
        Assert.Equal(["MFA challenges", "mailed links", "personal access tokens", "staged files"], late.Steps.Select(s => s.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(AccountTokenPurposes.VerifyEmail, await Query(db => db.Set<AccountToken>().Select(t => t.Purpose).SingleAsync()));
        Assert.Equal(0, await Query(db => db.Set<MfaChallenge>().CountAsync()));
        Assert.Equal("live", await Query(db => db.Set<PersonalAccessToken>().Select(t => t.Name).SingleAsync()));
        using var stillWorks = await client.GetWithTokenAsync("/api/v1/auth/me", live);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }
}
