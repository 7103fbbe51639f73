using TokenServer.Store;

namespace TokenServer.Tokens;

/// <summary>A revoked session id or access-token id, and until when a token it covers could still be valid.</summary>
public sealed record Revoked(string Subject, DateTimeOffset KeepUntil);

/// <summary>
/// The one way a session or token revocation is published: a <see cref="RevocationEvent"/> per
/// revocation is saved with the caller's changes, in its transaction, so other instances read them
/// in the order the store numbered them (Tokens/StoreChangeSync); once committed, this instance's
/// <see cref="RevocationList"/> refuses them at once.
/// </summary>
public sealed class RevocationPublisher(TokenServerDb db, RevocationList list, TimeProvider time)
{
    /// <summary>Saves the events with whatever else is staged, commits <paramref name="transaction"/> if given, then applies them here.</summary>
    public async Task PublishAsync(WriteTransaction? transaction, string kind, IReadOnlyCollection<Revoked> revoked, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        db.RevocationEvents.AddRange(revoked.Select(r => new RevocationEvent { Kind = kind, Subject = r.Subject, KeepUntil = r.KeepUntil, At = now }));
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var r in revoked)
        {
            if (kind == RevocationKinds.Session)
            {
                list.AddSession(r.Subject, r.KeepUntil);
            }
            else
            {
                list.AddToken(r.Subject, r.KeepUntil);
            }
        }
    }
}
