using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace TokenServer.Store;

/// <summary>
/// Group commit for SQLite (docs/performance.md, "Group commit"). A SQLite commit in WAL mode
/// with <c>synchronous=FULL</c> ends in an fsync of the log, and this process's writers take
/// turns (<see cref="WriteGate"/>), so a refresh or a client_credentials grant costs one fsync
/// each and the core idles while it runs. Here the write units that arrive while a commit is
/// under way queue, and the next turn runs all of them in one transaction: one commit, one
/// fsync. Each unit runs in its own savepoint, so one that fails is rolled back alone, and each
/// caller is answered only after the commit that holds its unit has returned, so what it
/// answers is durable. Nothing waits for a batch to fill: a lone unit commits at once.
/// PostgreSQL groups concurrent commits itself and locks rows, so there each unit runs in its
/// own transaction on the caller's context, as before.
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    /// <summary>Units a batch takes at most, so one transaction stays short.</summary>
    internal const int MaxBatch = 256;

    private const string Savepoint = "unit";

    private readonly Channel<Unit> queue = Channel.CreateUnbounded<Unit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceScopeFactory scopes;
    private readonly Task writer;

    public GroupCommit(IServiceScopeFactory scopes)
    {
        this.scopes = scopes;
        writer = Task.Run(WriteAsync);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a writing context and commits it with whatever
    /// <paramref name="db"/> has staged (new rows only), then returns its result. The work gets
    /// the context to write through; it must not capture <paramref name="db"/> or the request
    /// (it may run on another thread), and it must not commit.
    /// </summary>
    public async Task<T> RunAsync<T>(TokenServerDb db, Func<TokenServerDb, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var staged = db.ChangeTracker.Entries().ToList();
        if (!db.UsesWriteGate || db.Database.CurrentTransaction is not null || staged.Any(e => e.State != EntityState.Added || e.Navigations.Any(n => n.CurrentValue is not null)))
        {
            // PostgreSQL; or a caller already inside its own transaction (which holds this
            // process's write turn, so a batch could not start); or staged updates, which only
            // the caller's context can save, or new rows linked to tracked ones: one transaction
            // of its own, on the caller's context.
            await using var transaction = await db.BeginWriteTransactionAsync(cancellationToken);
            var result = await work(db, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }

        var rows = staged.Select(e => e.Entity).ToList();
        foreach (var entry in staged)
        {
            entry.State = EntityState.Detached;
        }

        var unit = new Unit<T>(rows, work);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(unit), this);

        // Not cancelled once queued: the batch commits it regardless, and its caller learns of it.
        var committed = await unit.Done.Task;

        // The rows are stored and keep their generated keys; the caller's context tracks them
        // again, as if it had saved them itself.
        db.AttachRange(rows);
        return committed;
    }

    private async Task WriteAsync()
    {
        var batch = new List<Unit>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
                db.Database.AutoSavepointsEnabled = false;

                // Waiting for the write turn is what lets a batch grow: units that arrive
                // meanwhile (while the previous batch commits) join this one.
                await using var transaction = await db.BeginWriteTransactionAsync(CancellationToken.None);
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                foreach (var unit in batch)
                {
                    await transaction.CreateSavepointAsync(Savepoint);
                    try
                    {
                        await unit.RunAsync(db);
                        await db.SaveChangesAsync(CancellationToken.None);
                        await transaction.ReleaseSavepointAsync(Savepoint);
                    }
                    catch (Exception ex)
                    {
                        await transaction.RollbackToSavepointAsync(Savepoint);
                        unit.Fail(ex);
                    }
                    finally
                    {
                        db.ChangeTracker.Clear();
                    }
                }

                await transaction.CommitAsync(CancellationToken.None);
                foreach (var unit in batch)
                {
                    unit.Complete();
                }
            }
            catch (Exception ex)
            {
                foreach (var unit in batch)
                {
                    unit.Fail(ex);
                }
            }
            finally
            {
                batch.Clear();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await writer;
    }

    private abstract class Unit
    {
        public abstract Task RunAsync(TokenServerDb db);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class Unit<T>(List<object> rows, Func<TokenServerDb, CancellationToken, Task<T>> work) : Unit
    {
        private T? result;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(TokenServerDb db)
        {
            db.AddRange(rows);
            result = await work(db, CancellationToken.None);
        }

        public override void Complete() => Done.TrySetResult(result!);

        public override void Fail(Exception exception) => Done.TrySetException(exception);
    }
}
