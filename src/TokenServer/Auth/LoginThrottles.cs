using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;

namespace TokenServer.Auth;

/// <summary>
/// Counts failed password logins in the store, one counter per login name and client address
/// and one per login name from everywhere (docs/security.md "Lockout"). Every increment is one
/// <c>UPDATE ... SET Failures = Failures + 1</c>, so concurrent failures each count, on every
/// instance, on both providers.
/// </summary>
public sealed class LoginThrottles(TokenServerDb db, IOptions<LockoutOptions> options)
{
    /// <summary>Hex SHA-256 of the normalised login name: the table keeps no email in the clear, and unknown names cost the same as known ones.</summary>
    public static string HashOf(string normalizedLogin) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedLogin)));

    /// <summary>The later end of the two locks that apply to this login from this address, or null when neither is in force.</summary>
    public async Task<DateTimeOffset?> LockedUntilAsync(string loginHash, string address, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ends = await db.LoginThrottles.AsNoTracking()
            .Where(t => t.LoginHash == loginHash && (t.Scope == address || t.Scope == LoginThrottle.AllAddresses) && t.LockedUntil > now)
            .Select(t => t.LockedUntil)
            .ToListAsync(cancellationToken);
        return ends.Max();
    }

    /// <summary>Counts one failure in both counters and locks each that reached its threshold; answers the lock now in force, if any.</summary>
    public async Task<(DateTimeOffset? LockedUntil, bool AccountWide)> RecordFailureAsync(string loginHash, string address, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var perAddress = await CountAsync(loginHash, address, o.Threshold, now, cancellationToken);
        var everywhere = await CountAsync(loginHash, LoginThrottle.AllAddresses, o.AccountThreshold, now, cancellationToken);
        var end = new[] { perAddress, everywhere }.Max();
        return (end, everywhere is not null);
    }

    /// <summary>A successful login from this address clears its counter and the login-wide one; other addresses' counters stay.</summary>
    public Task ClearAsync(string loginHash, string address, CancellationToken cancellationToken) =>
        db.WriteAsync(() => db.LoginThrottles.Where(t => t.LoginHash == loginHash && (t.Scope == address || t.Scope == LoginThrottle.AllAddresses)).ExecuteDeleteAsync(cancellationToken), cancellationToken);

    /// <summary>An admin's unlock or password reset: every counter of the account's email and username.</summary>
    public Task ClearAccountAsync(Account account, CancellationToken cancellationToken)
    {
        var hashes = new[] { account.NormalizedEmail, account.NormalizedUsername }.OfType<string>().Select(HashOf).ToList();
        return db.WriteAsync(() => db.LoginThrottles.Where(t => hashes.Contains(t.LoginHash)).ExecuteDeleteAsync(cancellationToken), cancellationToken);
    }

    private async Task<DateTimeOffset?> CountAsync(string loginHash, string scope, int threshold, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var failures = await db.WriteAsync(
            async () =>
            {
                // The row exists first (a no-op when it does), so the increment below is a single
                // atomic UPDATE whichever request created it. ON CONFLICT: SQLite 3.24+, PostgreSQL 9.5+.
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"""INSERT INTO login_throttles ("LoginHash", "Scope", "Failures") VALUES ({loginHash}, {scope}, 0) ON CONFLICT DO NOTHING""",
                    cancellationToken);
                await db.LoginThrottles.Where(t => t.LoginHash == loginHash && t.Scope == scope)
                    .ExecuteUpdateAsync(u => u.SetProperty(t => t.Failures, t => t.Failures + 1).SetProperty(t => t.LastFailureAt, now), cancellationToken);
                return await db.LoginThrottles.AsNoTracking().Where(t => t.LoginHash == loginHash && t.Scope == scope).Select(t => t.Failures).FirstAsync(cancellationToken);
            },
            cancellationToken);
        if (failures < threshold)
        {
            return null;
        }

        // Each failure past the threshold doubles the lock, up to the maximum.
        var o = options.Value;
        var doublings = Math.Min(failures - threshold, 20);
        var until = now + TimeSpan.FromTicks(Math.Min(o.BaseDuration.Ticks * (1L << doublings), o.MaxDuration.Ticks));
        await db.WriteAsync(
            () => db.LoginThrottles.Where(t => t.LoginHash == loginHash && t.Scope == scope && (t.LockedUntil == null || t.LockedUntil < until))
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.LockedUntil, until), cancellationToken),
            cancellationToken);
        return until;
    }
}
