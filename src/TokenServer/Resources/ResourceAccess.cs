using TokenServer.Auth;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>
/// Who is asking: the account, its current role and its organizations, from the account's
/// profile (<see cref="AccountDirectory"/>, not from the token), so that a demotion or a
/// removed membership takes effect on the next request. Anonymous callers and disabled
/// accounts have no account. Handlers take it as a parameter; minimal APIs bind it.
/// </summary>
public sealed record Caller(long? AccountId, string? Role, IReadOnlyList<long> OrganizationIds)
{
    public static readonly Caller Anonymous = new(null, null, []);

    public bool IsAdmin => Role == AccountRoles.Admin;

    /// <summary>researcher, curator and admin create and edit records (issue 4, access rules).</summary>
    public bool CanEdit => Role is AccountRoles.Researcher or AccountRoles.Curator or AccountRoles.Admin;

    /// <summary>curator and admin also publish (is_public, release_date) and delete.</summary>
    public bool CanCurate => Role is AccountRoles.Curator or AccountRoles.Admin;

    public static async ValueTask<Caller> BindAsync(HttpContext context)
    {
        if (context.User.AccountId() is not { } id)
        {
            return Anonymous;
        }

        var profile = await context.RequestServices.GetRequiredService<AccountDirectory>().FindAsync(id, context.RequestServices, context.RequestAborted);
        return profile is null || profile.Status != AccountStatuses.Active
            ? Anonymous
            : new Caller(id, profile.Role, profile.Organizations.Select(o => o.Id).ToList());
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
