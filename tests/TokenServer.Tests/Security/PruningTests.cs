using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>docs/security.md: the background pruner, driven by the fake clock, empties what has expired and keeps the rest.</summary>
public sealed class PruningTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public PruningTests()
    {
        factory.Settings["TokenServer:SessionLifetime"] = "2.00:00:00";
        factory.Settings["TokenServer:RefreshTokenLifetime"] = "1.00:00:00";
        factory.Settings["TokenServer:Audit:Retention"] = "3.00:00:00";
        factory.Settings["TokenServer:Pruning:Interval"] = "01:00:00";
        factory.Settings["TokenServer:Pruning:BatchSize"] = "2";

        // The fake clock fires every periodic timer once per elapsed period; the other
        // background loops are slowed so that advancing days stays cheap.
        factory.Settings["TokenServer:RevocationPollInterval"] = "06:00:00";
        factory.Settings["TokenServer:Keys:ReloadInterval"] = "06:00:00";
    }

    public void Dispose() => factory.Dispose();

    private async Task<T> Query<T>(Func<TokenServerDb, Task<T>> query)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TokenServerDb>());
    }

    /// <summary>Advances the fake clock past one pruning tick and waits (bounded) for the pass to show in the store.</summary>
    private async Task TickUntil(Func<Task<bool>> done)
    {
        factory.Time.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 200 && !await done(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(await done(), "the pruner did not run after its interval elapsed on the fake clock");
    }

    [Fact]
    public async Task Pruner_DeletesExpiredRowsInBatches_AndKeepsLiveOnes()
    {
        var client = factory.CreateClient();
        await client.RegisterAsync("old@example.org");
        var old = new List<Infrastructure.Tokens>();
        for (var i = 0; i < 5; i++)
        {
            old.Add(await client.LoginAsync("old@example.org"));
        }

        using (var revoke = await client.PostFormAsync("/api/v1/auth/revoke", new Dictionary<string, string> { ["token"] = old[0].AccessToken }, old[0].AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        Assert.Equal(1, await Query(db => db.RevokedTokens.CountAsync()));

        // Day 1 and a bit: the first refresh tokens and the revoked access token have expired.
        factory.Time.Advance(TimeSpan.FromHours(25) - TimeSpan.FromHours(1));
        await client.LoginAsync("old@example.org");
        await TickUntil(async () => await Query(db => db.RevokedTokens.CountAsync()) == 0
            && await Query(db => db.RefreshTokens.CountAsync()) == 1);
        Assert.Equal(6, await Query(db => db.Sessions.CountAsync()));

        // Day 2 and a bit: the first five sessions have ended; the fresh one has not.
        factory.Time.Advance(TimeSpan.FromHours(23) - TimeSpan.FromHours(1));
        await TickUntil(async () => await Query(db => db.Sessions.CountAsync()) == 1);
        var now = factory.Time.GetUtcNow();
        Assert.True(await Query(db => db.Sessions.AllAsync(s => s.ExpiresAt > now)));

        // Day 4: audit events older than the 3-day retention are gone, newer ones stay.
        var before = await Query(db => db.AuditEvents.CountAsync());
        factory.Time.Advance(TimeSpan.FromHours(24));
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.org", password = "x-password" })).Dispose();
        factory.Time.Advance(TimeSpan.FromHours(2));
        await TickUntil(async () => await Query(db => db.AuditEvents.CountAsync()) < before);
        var cutoff = factory.Time.GetUtcNow() - TimeSpan.FromDays(3);
        Assert.True(await Query(db => db.AuditEvents.AnyAsync()));
        Assert.False(await Query(db => db.AuditEvents.AnyAsync(e => e.At < cutoff)));
    }
}
