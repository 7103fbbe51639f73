using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Email;

/// <summary>Deletes mailed links (reset, verification, email change) that expired or were used before the retention.</summary>
internal sealed class AccountTokenPruning(TokenServerDb db) : IPruningStep
{
    public string Name => "mailed links";

    public Task<int> PruneAsync(PruningPass pass, CancellationToken cancellationToken) =>
        StorePruning.InBatchesAsync(db, () => db.Set<AccountToken>()
            .Where(t => db.Set<AccountToken>().Where(x => x.ExpiresAt < pass.SpentBefore || x.UsedAt < pass.SpentBefore).OrderBy(x => x.Id).Take(pass.Batch).Select(x => x.Id).Contains(t.Id))
            .ExecuteDeleteAsync(cancellationToken), pass.Batch, cancellationToken);
}
