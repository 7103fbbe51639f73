using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.PersonalAccessTokens;

/// <summary>
/// Deletes personal access tokens that expired or were revoked before the retention. A deleted
/// token is refused like an unknown one; its revoked-id row lives on until its expiry (the store's own pruning).
/// </summary>
internal sealed class PersonalAccessTokenPruning(TokenServerDb db) : IPruningStep
{
    public string Name => "personal access tokens";

    public Task<int> PruneAsync(PruningPass pass, CancellationToken cancellationToken) =>
        StorePruning.InBatchesAsync(db, () => db.Set<PersonalAccessToken>()
            .Where(t => db.Set<PersonalAccessToken>().Where(x => x.ExpiresAt < pass.SpentBefore || x.RevokedAt < pass.SpentBefore).OrderBy(x => x.ExpiresAt).Take(pass.Batch).Select(x => x.Id).Contains(t.Id))
            .ExecuteDeleteAsync(cancellationToken), pass.Batch, cancellationToken);
}
