using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Hosting;

/// <summary>
/// A store that cannot answer is not a server bug to the client: every route answers 503 with
/// <c>Retry-After</c> in its own error shape (RFC 9110 §15.6.4), and the log keeps the cause at
/// Error level. A write that lost a race on an account's concurrency token (a password change
/// against a login or an admin's change) is a 409: the client reloads and tries again.
/// docs/security.md "Store failures".
/// </summary>
public static class StoreFailures
{
    /// <summary>How long a client is asked to wait after the store failed.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public static IApplicationBuilder UseStoreFailures(this IApplicationBuilder app) => app.UseMiddleware<StoreFailureMiddleware>();

    /// <summary>A failure of the store itself: any provider exception, a timeout inside one, or a SQLite writer that waited too long.</summary>
    public static bool IsStoreFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException or StoreBusyException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A write that lost a race: the concurrency token changed, or a unique or foreign-key
    /// constraint refused it (SQLite SQLITE_CONSTRAINT, PostgreSQL class 23).
    /// </summary>
    public static bool IsConflict(DbUpdateException exception) =>
        exception is DbUpdateConcurrencyException
        || exception.InnerException is SqliteException { SqliteErrorCode: 19 }
        || exception.InnerException is Npgsql.PostgresException { SqlState: ['2', '3', ..] };

    /// <summary>SQLite's "the file is locked by another connection" (SQLITE_BUSY, SQLITE_LOCKED).</summary>
    public static bool IsSqliteBusy(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is StoreBusyException or SqliteException { SqliteErrorCode: 5 or 6 })
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class StoreFailureMiddleware(RequestDelegate next, ILogger<StoreFailureMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (DbUpdateException conflict) when (!context.Response.HasStarted && StoreFailures.IsConflict(conflict))
        {
            logger.LogInformation("Refused {Path}: the record changed while the request was writing it ({Reason})", context.Request.Path, conflict.InnerException?.Message ?? conflict.Message);
            context.Response.Clear();
            await Problems.Create(StatusCodes.Status409Conflict, "Changed meanwhile",
                "Another request changed the same record at the same moment (a password change, an administrator, or a second copy of this request). Read it again and retry if it still applies.").ExecuteAsync(context);
        }
        catch (Exception failure) when (!context.Response.HasStarted && StoreFailures.IsStoreFailure(failure))
        {
            if (StoreFailures.IsSqliteBusy(failure))
            {
                logger.LogError(failure, "The SQLite store stayed locked past the busy timeout during {Path}; {Holders}",
                    context.Request.Path, SqliteLockHolders.Describe(context.RequestServices.GetRequiredService<TokenServerDb>().Database.GetConnectionString()));
            }
            else
            {
                logger.LogError(failure, "The store failed during {Path}; answered 503", context.Request.Path);
            }

            context.Response.Clear();
            await AuthFailures.WriteAsync(context, AuthFailureKind.StoreUnavailable, StoreFailures.RetryAfter);
        }
    }
}
