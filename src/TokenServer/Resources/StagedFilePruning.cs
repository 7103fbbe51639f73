using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// Deletes staged files never attached within <see cref="ResourceOptions.StagedFileLifetime"/>:
/// each row by a conditional delete (an attach racing it claims the row the same way, so exactly
/// one wins), then its bytes on disk.
/// </summary>
internal sealed class StagedFilePruning(TokenServerDb db, FileStore store, IOptions<ResourceOptions> options) : IPruningStep
{
    public string Name => "staged files";

    public async Task<int> PruneAsync(PruningPass pass, CancellationToken cancellationToken)
    {
        var cutoff = pass.Now - options.Value.StagedFileLifetime;
        var deleted = 0;
        while (true)
        {
            var expired = await db.Set<StagedFile>().AsNoTracking().Where(f => f.CreatedAt < cutoff).OrderBy(f => f.CreatedAt).Take(pass.Batch)
                .Select(f => new { f.Id, f.StoragePath }).ToListAsync(cancellationToken);
            foreach (var file in expired)
            {
                var id = file.Id;
                if (await db.WriteAsync(() => db.Set<StagedFile>().Where(f => f.Id == id).ExecuteDeleteAsync(cancellationToken), cancellationToken) == 1)
                {
                    store.Delete(file.StoragePath);
                    deleted++;
                }
            }

            if (expired.Count < pass.Batch)
            {
                return deleted;
            }
        }
    }
}
