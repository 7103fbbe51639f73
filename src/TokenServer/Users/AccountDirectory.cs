using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using TokenServer.Auth;
using TokenServer.Organizations;
using TokenServer.Store;

namespace TokenServer.Users;

/// <summary>
/// Account profiles (role, status, memberships) in memory, so that a protected request does
/// not go to the store to learn who is asking (docs/performance.md: no store round trip on the
/// protected-GET path). A profile is forgotten when it changes: at once on the instance that
/// changed it (<see cref="AccountChangeInterceptor"/>), and on every other instance when the
/// store poll sees the <see cref="AccountChange"/> row, within one poll interval, the same
/// bound as for revocations.
/// </summary>
public sealed class AccountDirectory : IAccountChangeObserver, IDisposable
{
    /// <summary>Profiles kept at most; beyond that the least recently used are dropped.</summary>
    public const int Capacity = 10_000;

    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) };
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = Capacity });

    // Bumped by every forget: a profile read from the store before a change was forgotten must
    // not be cached after it, or it would stay stale until the account's next change.
    private long generation;

    /// <summary>The account's profile, or null if there is no such account.</summary>
    public async ValueTask<AccountProfile?> FindAsync(long accountId, IServiceProvider requestServices, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(accountId, out AccountProfile? cached))
        {
            return cached;
        }

        var before = Volatile.Read(ref generation);
        var db = requestServices.GetRequiredService<TokenServerDb>();
        var profile = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == accountId)
            .Select(a => new AccountProfile(a.Id, a.Email, a.Username, a.FullName, a.Role, a.Status, a.CreatedAt, a.LastLoginAt,
                db.Set<ServiceUser>().Any(s => s.AccountId == a.Id),
                a.Memberships.OrderBy(m => m.Organization.Slug).Select(m => new CallerMembership(m.Organization.Id, m.Organization.Slug, m.Organization.Name, m.Organization.SsoEnabled, m.Role)).ToList()))
            .FirstOrDefaultAsync(cancellationToken);
        if (profile is not null && Volatile.Read(ref generation) == before)
        {
            cache.Set(accountId, profile, EntryOptions);
        }

        return profile;
    }

    /// <summary>Forgets one account's profile, or every profile when <paramref name="accountId"/> is null.</summary>
    public void Forget(long? accountId)
    {
        Interlocked.Increment(ref generation);
        if (accountId is { } id)
        {
            cache.Remove(id);
        }
        else
        {
            cache.Clear();
        }
    }

    public void Dispose() => cache.Dispose();
}

/// <summary>What the store says about an account: the source of a <see cref="Caller"/> and of <c>/me</c>.</summary>
public sealed record AccountProfile(
    long Id,
    string Email,
    string? Username,
    string FullName,
    string Role,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastLoginAt,
    bool IsServiceUser,
    IReadOnlyList<CallerMembership> Memberships)
{
    public MeResponse ToMe() => new(Id, Email, Username, FullName, Role, Status, CreatedAt, LastLoginAt,
        Memberships.Select(m => new MembershipResponse(m.OrganizationId, m.Slug, m.Name, m.Role)).ToList());
}

/// <summary>
/// Notices, in every SaveChanges, the changes that alter a profile (an account, a membership,
/// an organization), writes an <see cref="AccountChange"/> row for each in the same
/// transaction so other instances learn of it, and once saved forgets the local copies.
/// Membership and organization changes must therefore go through SaveChanges, not
/// ExecuteUpdate/ExecuteDelete.
/// </summary>
internal sealed class AccountChangeInterceptor(AccountDirectory directory, TimeProvider time) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Record(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Record(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Publish(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Publish(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Discard(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context);
        return Task.CompletedTask;
    }

    private void Record(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        context.ChangeTracker.DetectChanges();
        HashSet<long?>? changed = null;
        foreach (var entry in context.ChangeTracker.Entries())
        {
            long? accountId = (entry.Entity, entry.State) switch
            {
                // A new account has no cached profile yet; a new organization has no members yet.
                (Account a, EntityState.Modified or EntityState.Deleted) => a.Id,
                (Membership m, EntityState.Added or EntityState.Modified or EntityState.Deleted) when m.AccountId > 0 => m.AccountId,
                (Organization, EntityState.Modified or EntityState.Deleted) => null,
                _ => -1,
            };
            if (accountId != -1)
            {
                (changed ??= []).Add(accountId);
            }
        }

        if (changed is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        context.Set<AccountChange>().AddRange(changed.Contains(null)
            ? [new AccountChange { AccountId = null, ChangedAt = now }]
            : changed.Select(id => new AccountChange { AccountId = id, ChangedAt = now }));
    }

    private void Publish(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<AccountChange>().ToList())
        {
            directory.Forget(entry.Entity.AccountId);
            entry.State = EntityState.Detached;
        }
    }

    private static void Discard(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<AccountChange>().Where(e => e.State == EntityState.Added).ToList())
        {
            entry.State = EntityState.Detached;
        }
    }
}
