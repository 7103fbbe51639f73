using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Store;

namespace TokenServer.Users;

public sealed record ImportReport(int Created, int Updated, int Skipped, int Refused, IReadOnlyList<string> Problems);

/// <summary>
/// Moves accounts from another platform, with their password hashes (docs/decisions.md
/// "Importing accounts"). Re-running a file updates, never duplicates: an account is found by
/// its email. A password is only replaced while the account still holds an imported hash: once
/// its owner has logged in (and been moved to BCrypt) or set a password here, the file's old
/// hash would be a step back. Memberships are added or changed, never removed.
/// </summary>
public sealed partial class AccountImport(
    TokenServerDb db,
    AccountRegistry registry,
    AuditLog audit,
    IOptions<PasswordOptions> passwords,
    TimeProvider time)
{
    private const int BatchSize = 256;

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    public async Task<ImportReport> ImportAsync(IAsyncEnumerable<ReadLine> lines, bool dryRun, CancellationToken cancellationToken)
    {
        var counts = new int[4];
        var problems = new List<string>();
        var seen = new Dictionary<string, int>();
        var batch = new List<Planned>();

        await foreach (var line in lines.WithCancellation(cancellationToken))
        {
            var planned = await PlanAsync(line, seen, cancellationToken);
            if (planned.Problem is not null)
            {
                counts[(int)Outcome.Refused]++;
                problems.Add($"line {line.Number}: {planned.Problem}");
                continue;
            }

            counts[(int)planned.Outcome]++;
            if (planned.Outcome != Outcome.Skipped)
            {
                batch.Add(planned);
            }

            if (batch.Count == BatchSize)
            {
                await ApplyAsync(batch, dryRun, cancellationToken);
            }
        }

        await ApplyAsync(batch, dryRun, cancellationToken);
        return new ImportReport(counts[(int)Outcome.Created], counts[(int)Outcome.Updated], counts[(int)Outcome.Skipped], counts[(int)Outcome.Refused], problems);
    }

    private async Task<Planned> PlanAsync(ReadLine read, Dictionary<string, int> seen, CancellationToken cancellationToken)
    {
        if (read.Account is not { } line)
        {
            return Planned.Refuse(read.Problem!);
        }

        var email = line.Email?.Trim();
        var fullName = line.FullName?.Trim() is { Length: > 0 } name ? name : email?.Split('@')[0];
        var errors = registry.Validate(email, null, fullName, line.Role, null);
        errors.Remove("password");
        if (errors.Count > 0)
        {
            return Planned.Refuse(string.Join(" ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
        }

        var normalized = CredentialChecker.Normalize(email!);
        if (!seen.TryAdd(normalized, read.Number))
        {
            return Planned.Refuse($"email {email} is also on line {seen[normalized]}; give each account once.");
        }

        var memberships = new List<(string Slug, string Role)>();
        foreach (var m in line.Organizations ?? [])
        {
            var role = m.Role ?? MembershipRoles.Member;
            if (m.Slug is null || !SlugPattern().IsMatch(m.Slug))
            {
                return Planned.Refuse($"organization slug '{m.Slug}' must be 1 to 64 lower-case letters, digits or dashes.");
            }

            if (!MembershipRoles.All.Contains(role))
            {
                return Planned.Refuse($"organization role '{role}' must be one of: {string.Join(", ", MembershipRoles.All)}.");
            }

            memberships.Add((m.Slug, role));
        }

        if (line.PasswordHash is null)
        {
            return Planned.Refuse("password_hash is missing.");
        }

        if (line.PasswordHash.Length > Account.PasswordHashMaxLength - 100 || line.Salt?.Length > 200)
        {
            return Planned.Refuse($"password_hash is longer than {Account.PasswordHashMaxLength - 100} characters (or salt than 200): no supported format is that long.");
        }

        var hash = LegacyPasswords.Import(line.PasswordHash, line.HashFormat, line.Salt);
        if (hash.Problem is not null)
        {
            return Planned.Refuse(hash.Problem);
        }

        var account = await db.Accounts.Include(a => a.Memberships).ThenInclude(m => m.Organization)
            .FirstOrDefaultAsync(a => a.NormalizedEmail == normalized, cancellationToken);
        if (account is null)
        {
            if (await db.Accounts.AnyAsync(a => a.NormalizedUsername == normalized, cancellationToken))
            {
                return Planned.Refuse($"{email} is another account's username.");
            }

            return new Planned(Outcome.Created, null, email!, fullName!, line.Role ?? AccountRoles.Researcher, hash, memberships, null);
        }

        var replaceHash = !LegacyPasswords.IsNative(account.PasswordHash) && !hash.IsStoredIn(account.PasswordHash);
        var changed = replaceHash
            || (line.FullName is not null && account.FullName != fullName)
            || (line.Role is not null && account.Role != line.Role)
            || memberships.Any(m => !account.Memberships.Any(x => x.Organization.Slug == m.Slug && x.Role == m.Role));
        return changed
            ? new Planned(Outcome.Updated, account, email!, line.FullName is null ? account.FullName : fullName!, line.Role ?? account.Role, replaceHash ? hash : null, memberships, null)
            : new Planned(Outcome.Skipped, account, email!, fullName!, account.Role, null, memberships, null);
    }

    /// <summary>Wraps the batch's fast digests in BCrypt on every core, then writes the batch in one transaction.</summary>
    private async Task ApplyAsync(List<Planned> batch, bool dryRun, CancellationToken cancellationToken)
    {
        if (batch.Count == 0 || dryRun)
        {
            batch.Clear();
            return;
        }

        var workFactor = passwords.Value.WorkFactor;
        var stored = new string?[batch.Count];
        await Parallel.ForAsync(0, batch.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = passwords.Value.EffectiveMaxConcurrentHashes }, (i, _) =>
        {
            stored[i] = batch[i].Hash?.ToStored(workFactor);
            return ValueTask.CompletedTask;
        });

        var slugs = batch.SelectMany(p => p.Memberships.Select(m => m.Slug)).Distinct().ToList();
        var organizations = await db.Organizations.Where(o => slugs.Contains(o.Slug)).ToDictionaryAsync(o => o.Slug, cancellationToken);
        var now = time.GetUtcNow();
        var written = new List<(Account Account, bool Created)>();
        await using var transaction = await db.BeginWriteTransactionAsync(cancellationToken);
        for (var i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            var account = p.Account;
            if (account is null)
            {
                account = new Account
                {
                    Email = p.Email,
                    NormalizedEmail = CredentialChecker.Normalize(p.Email),
                    FullName = p.FullName,
                    PasswordHash = stored[i]!,
                    Role = p.Role,
                    Status = AccountStatuses.Active,
                    IsActivated = true,
                    SecurityStamp = Guid.NewGuid().ToString("N"),
                    CreatedAt = now,
                };
                db.Accounts.Add(account);
            }
            else
            {
                account.FullName = p.FullName;
                account.Role = p.Role;
                if (stored[i] is { } hash)
                {
                    account.PasswordHash = hash;
                    account.SecurityStamp = Guid.NewGuid().ToString("N");
                }
            }

            written.Add((account, p.Account is null));
            foreach (var (slug, role) in p.Memberships)
            {
                if (!organizations.TryGetValue(slug, out var organization))
                {
                    organization = new Organization { Slug = slug, Name = slug, CreatedAt = now };
                    db.Organizations.Add(organization);
                    organizations[slug] = organization;
                }

                var membership = account.Memberships.FirstOrDefault(m => m.Organization == organization);
                if (membership is null)
                {
                    account.Memberships.Add(new Membership { Organization = organization, Role = role, CreatedAt = now });
                }
                else
                {
                    membership.Role = role;
                }
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var (account, created) in written)
        {
            audit.Record(AuditEventTypes.AccountImported, account.Id, created ? "created" : "updated");
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        batch.Clear();
    }

    private enum Outcome
    {
        Created,
        Updated,
        Skipped,
        Refused,
    }

    private sealed record Planned(
        Outcome Outcome,
        Account? Account,
        string Email,
        string FullName,
        string Role,
        LegacyImport? Hash,
        List<(string Slug, string Role)> Memberships,
        string? Problem)
    {
        public static Planned Refuse(string problem) => new(Outcome.Refused, null, string.Empty, string.Empty, string.Empty, null, [], problem);
    }
}
