using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using TokenServer.Store;

namespace TokenServer.PersonalAccessTokens;

/// <summary>What authentication needs of a token's row.</summary>
public sealed record PersonalAccessTokenRow(string Id, long AccountId, IReadOnlyList<string> Scopes, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt)
{
    internal long LastStampedTicks = LastUsedAt?.UtcTicks ?? 0;
}

/// <summary>
/// Token rows by hash, so a script's request does not go to the store to find its token, and the
/// last-used time, written at most once a minute per token (not once per request).
/// </summary>
public sealed class PersonalAccessTokenCache : IDisposable
{
    /// <summary>How stale <c>last_used_at</c> may be: a use within a minute of the last stamp writes nothing.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async ValueTask<PersonalAccessTokenRow?> FindAsync(string hash, IServiceProvider requestServices, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(hash, out PersonalAccessTokenRow? cached))
        {
            return cached;
        }

        var db = requestServices.GetRequiredService<TokenServerDb>();
        var row = await db.Set<PersonalAccessToken>().AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.AccountId, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var found = new PersonalAccessTokenRow(row.Id, row.AccountId, row.Scopes.Split(' '), row.ExpiresAt, row.RevokedAt, row.LastUsedAt);
        cache.Set(hash, found, EntryOptions);
        return found;
    }

    /// <summary>
    /// Stamps the last use if the last stamp is a minute old. The update is conditional, so
    /// several instances stamping the same token write at most once a minute between them.
    /// </summary>
    public async Task StampUseAsync(PersonalAccessTokenRow row, DateTimeOffset now, IServiceProvider requestServices, CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref row.LastStampedTicks);
        if (now.UtcTicks - last < LastUsedResolution.Ticks || Interlocked.CompareExchange(ref row.LastStampedTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        var db = requestServices.GetRequiredService<TokenServerDb>();
        var staleBefore = now - LastUsedResolution;
        await db.WriteAsync(
            () => db.Set<PersonalAccessToken>()
                .Where(t => t.Id == row.Id && (t.LastUsedAt == null || t.LastUsedAt <= staleBefore))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken),
            cancellationToken);
    }

    public void Dispose() => cache.Dispose();
}
