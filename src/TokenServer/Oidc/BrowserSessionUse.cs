using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>
/// Stamps a browser session's last use when its cookie is used (an authorization request, the
/// account page, any page that asks who is signed in), at most once a minute per session: the
/// rule refresh follows (docs/performance.md "Group commit"), so a busy browser costs one row
/// update a minute rather than one a request (docs/decisions.md "Browser session last use").
/// </summary>
public sealed class BrowserSessionUse(TimeProvider time) : IDisposable
{
    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) };
    private readonly MemoryCache lastStamped = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async Task StampAsync(string sessionId, TokenServerDb db, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!lastStamped.TryGetValue(sessionId, out DateTimeOffset last))
        {
            last = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId).Select(s => s.LastUsedAt).FirstOrDefaultAsync(cancellationToken);
        }

        if (now - last < SessionTokens.LastUseResolution)
        {
            lastStamped.Set(sessionId, last, EntryOptions);
            return;
        }

        lastStamped.Set(sessionId, now, EntryOptions);

        // Conditional, so several instances stamping one session write at most once a minute between them.
        var staleBefore = now - SessionTokens.LastUseResolution;
        await db.WriteAsync(
            () => db.Sessions
                .Where(s => s.Id == sessionId && s.LastUsedAt <= staleBefore)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), cancellationToken),
            cancellationToken);
    }

    public void Dispose() => lastStamped.Dispose();
}
