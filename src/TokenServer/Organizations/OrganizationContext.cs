using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Organizations;

public enum OrganizationContextFailure
{
    /// <summary>No <c>x-org-slug</c> header: 400.</summary>
    MissingHeader,

    /// <summary>No such organization, or the caller is not a member of it: 403 (the same answer, so slugs cannot be probed).</summary>
    NotAMember,
}

/// <summary>
/// The organization a request acts in, named by the <c>x-org-slug</c> header (seeds/004,
/// CONTRACTS.md "TetraScience dialect"), and the caller's membership role in it. Routes opt in
/// with <see cref="OrganizationContextExtensions.RequireOrganizationContext{TBuilder}"/> after
/// RequireAuthorization; handlers then read <see cref="Of"/>.
/// </summary>
public sealed record OrganizationContext(long OrganizationId, string Slug, string Name, bool SsoEnabled, string Role)
{
    public const string Header = "x-org-slug";

    private static readonly object ItemKey = new();

    /// <summary>The context the filter resolved; throws if the route did not ask for one (a server bug, not a client mistake).</summary>
    public static OrganizationContext Of(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var value) && value is OrganizationContext resolved
            ? resolved
            : throw new InvalidOperationException("This route did not call RequireOrganizationContext().");

    /// <summary>Resolves the header against the caller's memberships: one query, the membership in the WHERE clause.</summary>
    public static async Task<(OrganizationContext? Context, OrganizationContextFailure? Failure)> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var slug = context.Request.Headers[Header].ToString().Trim();
        if (slug.Length == 0)
        {
            return (null, OrganizationContextFailure.MissingHeader);
        }

        var callerId = context.User.AccountId();
        var db = context.RequestServices.GetRequiredService<TokenServerDb>();
        var found = await db.Memberships.AsNoTracking()
            .Where(m => m.AccountId == callerId && m.Organization.Slug == slug)
            .Select(m => new OrganizationContext(m.OrganizationId, m.Organization.Slug, m.Organization.Name, m.Organization.SsoEnabled, m.Role))
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return (null, OrganizationContextFailure.NotAMember);
        }

        context.Items[ItemKey] = found;
        return (found, null);
    }

    /// <summary>The native answer when a route brings no error shape of its own: problem details saying what to send.</summary>
    public static IResult DefaultError(OrganizationContextFailure failure) => failure == OrganizationContextFailure.MissingHeader
        ? Problems.Create(StatusCodes.Status400BadRequest, "Organization required",
            $"Name the organization to act in with the '{Header}' header, for example '{Header}: my-lab'.")
        : Problems.Create(StatusCodes.Status403Forbidden, "Not a member",
            $"You are not a member of the organization named in '{Header}'. Check the slug, or ask one of its admins to add you.");
}

public static class OrganizationContextExtensions
{
    /// <summary>
    /// Refuses the request unless <c>x-org-slug</c> names an organization the caller belongs to.
    /// <paramref name="errors"/> formats a refusal in the route's own dialect; problem details by default.
    /// </summary>
    public static TBuilder RequireOrganizationContext<TBuilder>(this TBuilder builder, Func<OrganizationContextFailure, IResult>? errors = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var (resolved, failure) = await OrganizationContext.ResolveAsync(context.HttpContext, context.HttpContext.RequestAborted);
            return resolved is not null ? await next(context) : (errors ?? OrganizationContext.DefaultError)(failure!.Value);
        });
}

