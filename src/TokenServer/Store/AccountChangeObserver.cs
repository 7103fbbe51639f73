namespace TokenServer.Store;

/// <summary>
/// Told of every <see cref="AccountChange"/> another instance wrote, so that a cache above the
/// store can forget what changed. The store poll (in Tokens/) calls every registered observer;
/// the store knows nothing of what they cache.
/// </summary>
public interface IAccountChangeObserver
{
    /// <summary>Forgets one account, or every account when <paramref name="accountId"/> is null.</summary>
    void Forget(long? accountId);
}
