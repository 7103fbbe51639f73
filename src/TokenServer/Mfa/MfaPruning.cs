using Microsoft.EntityFrameworkCore;
using TokenServer.Store;

namespace TokenServer.Mfa;

/// <summary>Deletes MFA challenges past their short life (a used one expires minutes later too).</summary>
internal sealed class MfaPruning(TokenServerDb db) : IPruningStep
{
    public string Name => "MFA challenges";

    public Task<int> PruneAsync(PruningPass pass, CancellationToken cancellationToken) =>
        StorePruning.InBatchesAsync(db, () => db.Set<MfaChallenge>()
            .Where(c => db.Set<MfaChallenge>().Where(x => x.ExpiresAt < pass.SpentBefore).OrderBy(x => x.ExpiresAt).Take(pass.Batch).Select(x => x.Id).Contains(c.Id))
            .ExecuteDeleteAsync(cancellationToken), pass.Batch, cancellationToken);
}
