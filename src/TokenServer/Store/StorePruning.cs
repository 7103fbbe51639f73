using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace TokenServer.Store;

/// <summary>How long the store keeps what it no longer needs (docs/security.md).</summary>
public sealed class PruningOptions
{
    public const string Section = "TokenServer:Pruning";

    /// <summary>How often expired rows are deleted.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Rows deleted per statement, so a large backlog never holds the write lock for long.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// How long spent one-time credentials are kept after they expired, were used or were revoked
    /// (MFA challenges, mailed links, personal access tokens), so a support question about a
    /// recent one can still be answered from the store.
    /// </summary>
    public TimeSpan SpentCredentialRetention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>
/// Pruning of one feature's own table, registered by that feature's folder (so Store/ knows no
/// feature) and run by <see cref="StorePruning"/> after the store's own tables.
/// </summary>
public interface IPruningStep
{
    /// <summary>What the rows are, for the CLI and the log (for example "MFA challenges").</summary>
    string Name { get; }

    /// <summary>Deletes what the pass leaves behind, in batches of <see cref="PruningPass.Batch"/> (<see cref="StorePruning.InBatchesAsync"/>); answers how many.</summary>
    Task<int> PruneAsync(PruningPass pass, CancellationToken cancellationToken);
}

/// <param name="Now">The pass's time; a step with its own lifetime (staged uploads) counts from it.</param>
/// <param name="SpentBefore">Now minus <see cref="PruningOptions.SpentCredentialRetention"/>: spent one-time credentials older than this go.</param>
/// <param name="Batch">Rows per delete statement.</param>
public sealed record PruningPass(DateTimeOffset Now, DateTimeOffset SpentBefore, int Batch);

public sealed class AuditOptions
{
    public const string Section = "TokenServer:Audit";

    /// <summary>Age after which audit events are deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);
}

internal sealed class PruningOptionsValidator : IValidateOptions<PruningOptions>
{
    public ValidateOptionsResult Validate(string? name, PruningOptions o)
    {
        var errors = new List<string>();
        if (o.Interval < TimeSpan.FromSeconds(1) || o.Interval > TimeSpan.FromDays(1))
        {
            errors.Add("TokenServer:Pruning:Interval must be between 00:00:01 and 1.00:00:00.");
        }

        if (o.BatchSize is < 1 or > 100_000)
        {
            errors.Add($"TokenServer:Pruning:BatchSize must be between 1 and 100000, not {o.BatchSize}.");
        }

        if (o.SpentCredentialRetention < TimeSpan.Zero || o.SpentCredentialRetention > TimeSpan.FromDays(366))
        {
            errors.Add($"TokenServer:Pruning:SpentCredentialRetention must be between 00:00:00 and 366.00:00:00, not {o.SpentCredentialRetention}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions o) =>
        o.Retention >= TimeSpan.FromDays(1)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"TokenServer:Audit:Retention must be at least 1.00:00:00 (one day), not {o.Retention}.");
}

public sealed record PruneCounts(int RefreshTokens, int Sessions, int RevokedTokens, int AuditEvents, int AccountChanges, int RevocationEvents, int LoginThrottles)
{
    /// <summary>Rows deleted by each feature's <see cref="IPruningStep"/>, by its name.</summary>
    public IReadOnlyList<(string Name, int Count)> Steps { get; init; } = [];

    public int Total => RefreshTokens + Sessions + RevokedTokens + AuditEvents + AccountChanges + RevocationEvents + LoginThrottles + Steps.Sum(s => s.Count);
}

/// <summary>
/// Deletes rows nothing can use any more, in batches: refresh tokens past their expiry or
/// already redeemed and old enough to be useless for reuse detection (their session's end),
/// sessions past their absolute end (with their refresh tokens), revoked-token ids past the
/// expiry of the token they name, audit events older than the retention, then each feature's
/// spent credentials (<see cref="IPruningStep"/>) older than <see cref="PruningOptions.SpentCredentialRetention"/>.
/// Each delete walks an index on its time column (EntityConfigurations: ExpiresAt, At).
/// </summary>
public sealed class StorePruning(TokenServerDb db, IEnumerable<IPruningStep> steps, IOptions<PruningOptions> options, IOptions<AuditOptions> audit, TimeProvider time)
{
    public static readonly TimeSpan LoginThrottleRetention = TimeSpan.FromDays(1);

    public async Task<PruneCounts> PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var batch = options.Value.BatchSize;

        // A consumed refresh token is kept until it expires: presenting it again before then is
        // reuse and must still revoke the session (RFC 9700 §4.14.2).
        var refresh = await InBatches(() => db.RefreshTokens
            .Where(t => db.RefreshTokens.Where(x => x.ExpiresAt <= now).OrderBy(x => x.ExpiresAt).Take(batch).Select(x => x.Id).Contains(t.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        var sessions = 0;
        while (true)
        {
            var ids = await db.Sessions.AsNoTracking().Where(s => s.ExpiresAt <= now).OrderBy(s => s.ExpiresAt).Take(batch).Select(s => s.Id).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                break;
            }

            // Children first, so this works whether or not the store enforces the cascade.
            var (tokensDeleted, sessionsDeleted) = await db.WriteAsync(
                async () => (await db.RefreshTokens.Where(t => ids.Contains(t.SessionId)).ExecuteDeleteAsync(cancellationToken),
                    await db.Sessions.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(cancellationToken)),
                cancellationToken);
            refresh += tokensDeleted;
            sessions += sessionsDeleted;
            if (ids.Count < batch)
            {
                break;
            }
        }

        var revoked = await InBatches(() => db.RevokedTokens
            .Where(t => db.RevokedTokens.Where(x => x.ExpiresAt <= now).OrderBy(x => x.ExpiresAt).Take(batch).Select(x => x.Jti).Contains(t.Jti))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        var cutoff = now - audit.Value.Retention;
        var events = await InBatches(() => db.AuditEvents
            .Where(e => db.AuditEvents.Where(x => x.At < cutoff).OrderBy(x => x.At).Take(batch).Select(x => x.Id).Contains(e.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        var changedBefore = now - AccountChange.Retention;
        var changes = await InBatches(() => db.AccountChanges
            .Where(c => db.AccountChanges.Where(x => x.ChangedAt < changedBefore).OrderBy(x => x.ChangedAt).Take(batch).Select(x => x.Id).Contains(c.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        var revokedBefore = now - RevocationEvent.Retention;
        var revocationEvents = await InBatches(() => db.RevocationEvents
            .Where(e => db.RevocationEvents.Where(x => x.At < revokedBefore).OrderBy(x => x.At).Take(batch).Select(x => x.Id).Contains(e.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        // Failure counters idle for a day and not locking (login names are chosen by whoever
        // guesses, so the table must not grow with them): the count starts again after a day.
        var idleSince = now - LoginThrottleRetention;
        var throttles = await InBatches(() => db.LoginThrottles
            .Where(t => t.LastFailureAt < idleSince && (t.LockedUntil == null || t.LockedUntil < now))
            .Take(batch)
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);

        var pass = new PruningPass(now, now - options.Value.SpentCredentialRetention, batch);
        var stepCounts = new List<(string, int)>();
        foreach (var step in steps.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            stepCounts.Add((step.Name, await step.PruneAsync(pass, cancellationToken)));
        }

        return new PruneCounts(refresh, sessions, revoked, events, changes, revocationEvents, throttles) { Steps = stepCounts };
    }

    private Task<int> InBatches(Func<Task<int>> deleteBatch, int batch, CancellationToken cancellationToken) => InBatchesAsync(db, deleteBatch, batch, cancellationToken);

    /// <summary>Deletes batch after batch, each in its own write turn, so requests' writes interleave.</summary>
    public static async Task<int> InBatchesAsync(TokenServerDb db, Func<Task<int>> deleteBatch, int batch, CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await db.WriteAsync(deleteBatch, cancellationToken);
            total += deleted;
        }
        while (deleted >= batch);

        return total;
    }
}

/// <summary>Runs <see cref="StorePruning"/> on a <see cref="TimeProvider"/>-driven timer: no cron job needed.</summary>
internal sealed class StorePruner(IServiceScopeFactory scopes, IOptions<PruningOptions> options, TimeProvider time, ILogger<StorePruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var counts = await scope.ServiceProvider.GetRequiredService<StorePruning>().PruneAsync(stoppingToken);
                if (counts.Total > 0)
                {
                    logger.LogInformation("Pruned {RefreshTokens} refresh tokens, {Sessions} sessions, {RevokedTokens} revoked token ids, {AuditEvents} audit events, {Spent}",
                        counts.RefreshTokens, counts.Sessions, counts.RevokedTokens, counts.AuditEvents, string.Join(", ", counts.Steps.Select(s => $"{s.Count} {s.Name}")));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Pruning failed; retrying at the next tick");
            }
        }
    }
}
