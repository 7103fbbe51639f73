using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Mfa;

/// <summary>Deletes MFA challenges past their short life (a used one expires minutes later too).</summary>
internal sealed class MfaPruning(TokenServerDb db) : IPruningStep
{
    public string Name => "MFA challenges";

    public Task<int> PruneAsync(DateTimeOffset spentBefore, int batch, CancellationToken cancellationToken) =>
        StorePruning.InBatchesAsync(db, () => db.Set<MfaChallenge>()
            .Where(c => db.Set<MfaChallenge>().Where(x => x.ExpiresAt < spentBefore).OrderBy(x => x.ExpiresAt).Take(batch).Select(x => x.Id).Contains(c.Id))
            .ExecuteDeleteAsync(cancellationToken), batch, cancellationToken);
}
