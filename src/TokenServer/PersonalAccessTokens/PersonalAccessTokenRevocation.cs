using Microsoft.EntityFrameworkCore;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.PersonalAccessTokens;

/// <summary>
/// Revokes personal access tokens: the row is marked, and the token's id is published as a revoked
/// token id (a <see cref="RevokedToken"/> row and <see cref="RevocationPublisher"/>), so other
/// instances refuse it after their next store poll (<see cref="TokenOptions.RevocationPollInterval"/>).
/// </summary>
public sealed class PersonalAccessTokenRevocation(TokenServerDb db, RevocationPublisher publisher, TimeProvider time)
{
    /// <summary>Revokes one live token of the account; false if it has none with this id.</summary>
    public async Task<bool> RevokeAsync(long accountId, string id, CancellationToken cancellationToken) =>
        await RevokeWhereAsync(t => t.AccountId == accountId && t.Id == id, cancellationToken) > 0;

    /// <summary>Revokes every live token of the account (a password reset: the account may have been taken over).</summary>
    public Task<int> RevokeAllAsync(long accountId, CancellationToken cancellationToken) =>
        RevokeWhereAsync(t => t.AccountId == accountId, cancellationToken);

    private async Task<int> RevokeWhereAsync(System.Linq.Expressions.Expression<Func<PersonalAccessToken, bool>> which, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var targets = await db.Set<PersonalAccessToken>().AsNoTracking()
            .Where(which).Where(t => t.RevokedAt == null && t.ExpiresAt > now)
            .Select(t => new { t.Id, t.ExpiresAt })
            .ToListAsync(cancellationToken);
        if (targets.Count == 0)
        {
            return 0;
        }

        // One conditional update per token (a person has a handful): of two concurrent
        // revocations only the one that changed the row writes its revoked id.
        await using var transaction = await db.BeginWriteTransactionAsync(cancellationToken);
        var revoked = new List<Revoked>();
        foreach (var t in targets)
        {
            if (await db.Set<PersonalAccessToken>().Where(x => x.Id == t.Id && x.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken) == 1)
            {
                revoked.Add(new Revoked(t.Id, t.ExpiresAt));
                db.RevokedTokens.Add(new RevokedToken { Jti = t.Id, RevokedAt = now, ExpiresAt = t.ExpiresAt });
            }
        }

        await publisher.PublishAsync(transaction, RevocationKinds.Token, revoked, cancellationToken);
        return revoked.Count;
    }
}
