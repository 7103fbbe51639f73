using TokenServer.Users;

namespace TokenServer.Resources;

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
