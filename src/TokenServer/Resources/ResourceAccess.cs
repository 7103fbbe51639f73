using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// Who is asking: the account, its current role and its organizations, read from the store
/// (not from the token) so that a demotion or a removed membership takes effect on the next
/// request. Anonymous callers have no account.
/// </summary>
public sealed record Caller(long? AccountId, string? Role, IReadOnlyList<long> OrganizationIds)
{
    public static readonly Caller Anonymous = new(null, null, []);

    public bool IsAdmin => Role == AccountRoles.Admin;

    /// <summary>researcher, curator and admin create and edit records (issue 4, access rules).</summary>
    public bool CanEdit => Role is AccountRoles.Researcher or AccountRoles.Curator or AccountRoles.Admin;

    /// <summary>curator and admin also publish (is_public, release_date) and delete.</summary>
    public bool CanCurate => Role is AccountRoles.Curator or AccountRoles.Admin;

    public static async Task<Caller> LoadAsync(ClaimsPrincipal user, TokenServerDb db, CancellationToken cancellationToken)
    {
        if (user.AccountId() is not { } id)
        {
            return Anonymous;
        }

        var row = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == id && a.Status == AccountStatuses.Active)
            .Select(a => new { a.Role, Organizations = a.Memberships.Select(m => m.OrganizationId).ToList() })
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? Anonymous : new Caller(id, row.Role, row.Organizations);
    }
}

public static class ResourceAccess
{
    /// <summary>
    /// Only the records this caller may see: public ones, released ones, and for members the
    /// private records of their organizations; an admin sees everything. The rule is part of
    /// the SQL, so a record the caller may not see is simply not found (CONTRACTS.md, resources).
    /// </summary>
    public static IQueryable<T> VisibleTo<T>(this IQueryable<T> records, Caller caller, DateTimeOffset now)
        where T : class, IOwnedRecord
    {
        if (caller.IsAdmin)
        {
            return records;
        }

        if (caller.OrganizationIds.Count == 0)
        {
            return records.Where(r => r.IsPublic || (r.ReleaseDate != null && r.ReleaseDate <= now));
        }

        // The caller's few organization ids go into the SQL as one parameter (IN over a JSON
        // array on SQLite, = ANY on PostgreSQL): cheaper over 100k rows than a correlated
        // membership lookup per row.
        var organizations = caller.OrganizationIds;
        return records.Where(r => r.IsPublic || (r.ReleaseDate != null && r.ReleaseDate <= now) || organizations.Contains(r.OrganizationId));
    }

    /// <summary>Whether the caller may write records of this organization: a member (or an admin) whose role edits.</summary>
    public static bool IsMember(Caller caller, long organizationId) =>
        caller.IsAdmin || caller.OrganizationIds.Contains(organizationId);
}
