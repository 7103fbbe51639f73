using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Users;

/// <summary>One of the caller's organizations, with the caller's membership role in it.</summary>
public sealed record CallerMembership(long OrganizationId, string Slug, string Name, bool SsoEnabled, string Role);

/// <summary>The organization a request acts in; <see cref="MembershipRole"/> is null for a system admin who is not a member.</summary>
public sealed record ChosenOrganization(long Id, string Slug, string Name, bool SsoEnabled, string? MembershipRole);

public enum OrganizationRefusal
{
    /// <summary>No organization named and none implied: 400.</summary>
    Missing,

    /// <summary>No organization named and the caller belongs to several: 400.</summary>
    Ambiguous,

    /// <summary>No such organization, or the caller may not act in it: the same answer, so slugs cannot be probed.</summary>
    NotAMember,
}

/// <summary>
/// Who is calling, resolved once per request from the store (through the profile cache,
/// <see cref="AccountDirectory"/>), never from the token's claims: the account, its live system
/// role and status, whether it is a service user, its memberships, and the session the token
/// belongs to. A disabled or deleted account is <see cref="Anonymous"/>, so a demotion, a
/// removed membership or a disable takes effect on the next request on every route
/// (docs/security.md, "One caller"). Handlers take it as a parameter (minimal APIs call
/// <see cref="BindAsync"/>); filters and policies call <see cref="OfAsync"/>.
/// </summary>
public sealed class Caller
{
    /// <summary>The header naming the organization a request acts in (seeds/004, CONTRACTS.md "TetraScience dialect").</summary>
    public const string OrganizationHeader = "x-org-slug";

    public static readonly Caller Anonymous = new(null, null, null, null, null, false, []);

    private static readonly object ItemKey = new();

    private Caller(long? accountId, string? role, string? sessionId, string? clientId, string? dialect, bool isServiceUser, IReadOnlyList<CallerMembership> memberships)
    {
        AccountId = accountId;
        Role = role;
        SessionId = sessionId;
        ClientId = clientId;
        Dialect = dialect;
        IsServiceUser = isServiceUser;
        Memberships = memberships;
        OrganizationIds = [.. memberships.Select(m => m.OrganizationId)];
    }

    /// <summary>The account, or null for an anonymous caller and for a disabled or deleted account.</summary>
    public long? AccountId { get; }

    /// <summary>The live system role (<see cref="AccountRoles"/>).</summary>
    public string? Role { get; }

    /// <summary>The login session of the presented token (its <c>sid</c>).</summary>
    public string? SessionId { get; }

    /// <summary>The client the presented token was issued to (its <c>client_id</c>).</summary>
    public string? ClientId { get; }

    /// <summary>The front door that issued the presented token.</summary>
    public string? Dialect { get; }

    public bool IsServiceUser { get; }

    public IReadOnlyList<CallerMembership> Memberships { get; }

    public IReadOnlyList<long> OrganizationIds { get; }

    public bool IsAuthenticated => AccountId is not null;

    public bool IsAdmin => Role == AccountRoles.Admin;

    /// <summary>researcher, curator and admin create and edit records (docs/decisions.md, access rules).</summary>
    public bool CanEdit => Role is AccountRoles.Researcher or AccountRoles.Curator or AccountRoles.Admin;

    /// <summary>curator and admin also publish (is_public, release_date) and delete.</summary>
    public bool CanCurate => Role is AccountRoles.Curator or AccountRoles.Admin;

    /// <summary>Minimal APIs bind a <see cref="Caller"/> parameter through this.</summary>
    public static ValueTask<Caller> BindAsync(HttpContext context) => OfAsync(context);

    /// <summary>The request's caller, resolved at the first ask and kept for the rest of the request.</summary>
    public static async ValueTask<Caller> OfAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var value) && value is Caller known)
        {
            return known;
        }

        var caller = await ResolveAsync(context);
        context.Items[ItemKey] = caller;
        return caller;
    }

    private static async ValueTask<Caller> ResolveAsync(HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true
            || !long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return Anonymous;
        }

        var profile = await context.RequestServices.GetRequiredService<AccountDirectory>().FindAsync(id, context.RequestServices, context.RequestAborted);
        if (profile is null || profile.Status != AccountStatuses.Active)
        {
            return Anonymous;
        }

        // A personal access token's role is its owner's live role narrowed to the token's scopes,
        // computed from the store on this request (PersonalAccessTokens/PersonalAccessTokenScopes.cs).
        var role = PersonalAccessTokenScopes.IsPersonalAccessToken(user) ? user.FindFirstValue(TokenClaims.Role) ?? profile.Role : profile.Role;
        return new Caller(id, role, user.FindFirstValue(TokenClaims.SessionId), user.FindFirstValue(TokenClaims.ClientId),
                user.FindFirstValue(TokenClaims.Dialect), profile.IsServiceUser, profile.Memberships);
    }

    /// <summary>
    /// The one rule for naming an organization (a path's <c>{slug}</c> or <see cref="OrganizationHeader"/>):
    /// slugs are lower case (Organizations/OrganizationEndpoints.cs), so the name is trimmed and
    /// compared without case; the caller must be a member, or a system admin, who may act in
    /// any organization. Anything else is <see cref="OrganizationRefusal.NotAMember"/>, whether or
    /// not the organization exists.
    /// </summary>
    public async Task<(ChosenOrganization? Organization, OrganizationRefusal? Refusal)> OrganizationAsync(string? slug, TokenServerDb db, CancellationToken cancellationToken)
    {
        var name = slug?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(name))
        {
            return (null, OrganizationRefusal.Missing);
        }

        if (Memberships.FirstOrDefault(m => m.Slug == name) is { } m)
        {
            return (new ChosenOrganization(m.OrganizationId, m.Slug, m.Name, m.SsoEnabled, m.Role), null);
        }

        if (!IsAdmin)
        {
            return (null, OrganizationRefusal.NotAMember);
        }

        var found = await db.Organizations.AsNoTracking()
            .Where(o => o.Slug == name)
            .Select(o => new ChosenOrganization(o.Id, o.Slug, o.Name, o.SsoEnabled, null))
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? (null, OrganizationRefusal.NotAMember) : (found, null);
    }

    /// <summary>
    /// The organization named by <see cref="OrganizationHeader"/>; without the header, the
    /// caller's only organization when <paramref name="impliedWhenOnlyOne"/> (record writes),
    /// otherwise <see cref="OrganizationRefusal.Missing"/>.
    /// </summary>
    public Task<(ChosenOrganization? Organization, OrganizationRefusal? Refusal)> OrganizationFromHeaderAsync(
        HttpRequest request, bool impliedWhenOnlyOne, TokenServerDb db, CancellationToken cancellationToken)
    {
        var header = request.Headers[OrganizationHeader].ToString();
        if (!string.IsNullOrWhiteSpace(header) || !impliedWhenOnlyOne)
        {
            return OrganizationAsync(header, db, cancellationToken);
        }

        (ChosenOrganization?, OrganizationRefusal?) implied = Memberships switch
        {
            [var only] => (new ChosenOrganization(only.OrganizationId, only.Slug, only.Name, only.SsoEnabled, only.Role), null),
            [] => (null, OrganizationRefusal.Missing),
            _ => (null, OrganizationRefusal.Ambiguous),
        };
        return Task.FromResult(implied);
    }

    /// <summary>Whether the caller may manage the organization (its members and service users): an organization admin or a system admin.</summary>
    public bool Manages(ChosenOrganization organization) => IsAdmin || organization.MembershipRole == MembershipRoles.Admin;
}
