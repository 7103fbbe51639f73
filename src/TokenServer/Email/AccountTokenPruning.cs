using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Email;

/// <summary>Deletes mailed links (reset, verification, email change) that expired or were used before the retention.</summary>
internal sealed class AccountTokenPruning(TokenServerDb db) : IPruningStep
{
    public string Name => "mailed links";

    public Task<int> PruneAsync(DateTimeOffset spentBefore, int batch, CancellationToken cancellationToken) =>
        StorePruning.InBatchesAsync(db, () => db.Set<AccountToken>()
            .Where(t => db.Set<AccountToken>().Where(x => x.ExpiresAt < spentBefore || x.UsedAt < spentBefore).OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(t.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);
}
