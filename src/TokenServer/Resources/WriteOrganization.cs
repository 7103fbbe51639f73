using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// The organization a new top-level record belongs to: the <c>x-org-slug</c> header
/// (CONTRACTS.md, TetraScience dialect, reused here), or the caller's only organization.
/// Missing and ambiguous are the client's mistake (400); an organization the caller is not a
/// member of is 403, whether or not it exists, so the header cannot probe for slugs.
/// </summary>
public static class WriteOrganization
{
    public const string Header = Organizations.OrganizationContext.Header;

    public static async Task<(long? OrganizationId, ProblemHttpResult? Problem)> ResolveAsync(HttpRequest request, Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        var slug = request.Headers[Header].ToString().Trim();
        if (slug.Length > 0)
        {
            var normalized = slug.ToLowerInvariant();
            var found = await db.Organizations.AsNoTracking()
                .Where(o => o.Slug == normalized && (caller.IsAdmin || o.Memberships.Any(m => m.AccountId == caller.AccountId)))
                .Select(o => (long?)o.Id)
                .FirstOrDefaultAsync(cancellationToken);
            return found is { } id
                ? (id, null)
                : (null, Problems.Create(StatusCodes.Status403Forbidden, "Not a member of this organization",
                    $"You are not a member of an organization with the slug '{slug}'. Send x-org-slug with one of your organizations (GET /api/v1/auth/me lists them)."));
        }

        var mine = await db.Memberships.AsNoTracking()
            .Where(m => m.AccountId == caller.AccountId)
            .OrderBy(m => m.Organization.Slug)
            .Select(m => new { m.OrganizationId, m.Organization.Slug })
            .Take(10)
            .ToListAsync(cancellationToken);
        return mine.Count switch
        {
            1 => (mine[0].OrganizationId, null),
            0 => (null, Problems.Create(StatusCodes.Status400BadRequest, "No organization",
                "Records belong to an organization and you are a member of none. Ask an organization admin to add you, or send x-org-slug.")),
            _ => (null, Problems.Create(StatusCodes.Status400BadRequest, "Which organization?",
                $"You are a member of several organizations; send the header x-org-slug with one of: {string.Join(", ", mine.Select(m => m.Slug))}.")),
        };
    }
}
