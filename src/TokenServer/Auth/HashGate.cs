using Microsoft.Extensions.Options;
using TokenServer.Hosting;

namespace TokenServer.Auth;

/// <summary>
/// Bounds BCrypt work (docs/security.md): at most <see cref="PasswordOptions.MaxConcurrentHashes"/>
/// hashes run at once, at most <see cref="PasswordOptions.MaxQueuedHashes"/> wait, and anyone
/// beyond that is refused at once with <see cref="ServerBusyException"/> (503 with Retry-After).
/// A login flood therefore occupies a fixed number of threads; token validation and reads,
/// which never hash, keep the rest of the thread pool.
/// </summary>
public sealed class HashGate : IDisposable
{
    private readonly Observability.TokenServerMetrics? metrics;
    private readonly TimeProvider time;
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim slots;
    private readonly int capacity;
    private int pending;

    public HashGate(IOptions<PasswordOptions> options, Observability.TokenServerMetrics? metrics = null, TimeProvider? time = null)
    {
        this.metrics = metrics;
        this.time = time ?? TimeProvider.System;
        var o = options.Value;
        slots = new SemaphoreSlim(o.EffectiveMaxConcurrentHashes, o.EffectiveMaxConcurrentHashes);
        capacity = o.EffectiveMaxConcurrentHashes + o.MaxQueuedHashes;
    }

    /// <summary>Hashes running or waiting now.</summary>
    public int Pending => Volatile.Read(ref pending);

    public async ValueTask<Lease> EnterAsync(CancellationToken cancellationToken)
    {
        Reserve();
        var start = time.GetTimestamp();
        try
        {
            await slots.WaitAsync(cancellationToken);
            metrics?.HashWaited(time.GetElapsedTime(start));
        }
        catch
        {
            Interlocked.Decrement(ref pending);
            throw;
        }

        return new Lease(this);
    }

    public void Dispose() => slots.Dispose();

    private void Reserve()
    {
        if (Interlocked.Increment(ref pending) > capacity)
        {
            Interlocked.Decrement(ref pending);
            throw new ServerBusyException(RetryAfter);
        }
    }

    private void Exit()
    {
        slots.Release();
        Interlocked.Decrement(ref pending);
    }

    public readonly struct Lease(HashGate gate) : IDisposable
    {
        public void Dispose() => gate?.Exit();
    }
}
