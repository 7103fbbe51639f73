using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore.Storage;

namespace TokenServer.Store;

/// <summary>
/// SQLite lets one connection at a time hold a database's write lock. A writer that finds it
/// taken waits in SQLite's busy handler, which blocks its thread and polls with sleeps of 1 to
/// 100 ms: under concurrent writes, thread-pool threads sat blocked while the core went idle
/// between polls. So the writers of this process queue here instead, asynchronously and first
/// come first served, and reach SQLite one at a time. The busy handler still arbitrates between
/// processes sharing a file. PostgreSQL locks rows, so it has no gate.
/// </summary>
internal static class WriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>The gate of one SQLite database, shared by every context of this process that opens it.</summary>
    public static SemaphoreSlim For(string connectionString) => Gates.GetOrAdd(connectionString, _ => new SemaphoreSlim(1, 1));
}

/// <summary>This process's SQLite writers queued for longer than the busy timeout: answered as if another process held the file.</summary>
public sealed class StoreBusyException(string message) : TimeoutException(message);

/// <summary>
/// A context's place in the write queue. Re-entrant within one context, so that SaveChanges
/// inside a write transaction does not wait for itself.
/// </summary>
internal sealed class WriteTurn(TokenServerDb db) : IDisposable
{
    private bool left;

    public void Dispose()
    {
        if (!left)
        {
            left = true;
            db.LeaveWrite();
        }
    }
}

/// <summary>A transaction that holds the context's write turn from its start to its end.</summary>
public sealed class WriteTransaction : IAsyncDisposable
{
    private readonly IDbContextTransaction transaction;
    private readonly IDisposable turn;

    internal WriteTransaction(IDbContextTransaction transaction, IDisposable turn)
    {
        this.transaction = transaction;
        this.turn = turn;
    }

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public Task RollbackAsync(CancellationToken cancellationToken) => transaction.RollbackAsync(cancellationToken);

    public Task CreateSavepointAsync(string name) => transaction.CreateSavepointAsync(name);

    public Task ReleaseSavepointAsync(string name) => transaction.ReleaseSavepointAsync(name);

    public Task RollbackToSavepointAsync(string name) => transaction.RollbackToSavepointAsync(name);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.DisposeAsync();
        }
        finally
        {
            turn.Dispose();
        }
    }
}
