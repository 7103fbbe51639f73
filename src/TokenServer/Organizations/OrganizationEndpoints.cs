using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Organizations;

public sealed record CreateOrganizationRequest(
    [property: JsonPropertyName("slug")] string? Slug,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("sso_enabled")] bool? SsoEnabled);

public sealed record OrganizationResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sso_enabled")] bool SsoEnabled);

public sealed record AddMemberRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("role")] string? Role);

public sealed record MemberResponse(
    [property: JsonPropertyName("account_id")] long AccountId,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("since")] DateTimeOffset Since);

/// <summary>Organizations and their memberships. An organization the caller may not see does not exist (404).</summary>
public static partial class OrganizationEndpoints
{
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/admin/organizations", Create).WithTags("Admin").RequireAuthorization(Policies.Admin)
            .WithSummary("Create an organization");

        var group = app.MapGroup("/api/v1/organizations/{slug}").WithTags("Organizations").RequireAuthorization();
        group.MapGet("/members", ListMembers).WithSummary("Members of an organization (members only)");
        group.MapPost("/members", AddMember).WithSummary("Add an account by email (organization admins)");
        group.MapDelete("/members/{accountId:long}", RemoveMember).WithSummary("Remove a member (organization admins)");
        return app;
    }

    private static async Task<Results<Created<OrganizationResponse>, ValidationProblem, ProblemHttpResult>> Create(
        [FromBody] CreateOrganizationRequest request, Caller caller, TokenServerDb db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Slug is null || !SlugPattern().IsMatch(request.Slug))
        {
            errors["slug"] = ["Use 1 to 64 lower-case letters, digits and dashes, not starting or ending with a dash."];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors["name"] = ["Give a name of 1 to 200 characters."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        if (await db.Organizations.AnyAsync(o => o.Slug == request.Slug, cancellationToken))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Slug taken", "An organization with this slug exists. Choose another slug.");
        }

        var organization = new Organization { Slug = request.Slug!, Name = request.Name!.Trim(), SsoEnabled = request.SsoEnabled ?? false, CreatedAt = time.GetUtcNow() };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync(cancellationToken);
        audit.Record(AuditEventTypes.OrganizationCreated, null, $"organization {organization.Slug}", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/organizations/{organization.Slug}/members", new OrganizationResponse(organization.Id, organization.Slug, organization.Name, organization.SsoEnabled));
    }

    /// <summary>The organization in the path under the caller's one rule (<see cref="Caller.OrganizationAsync"/>); one it may not see does not exist.</summary>
    public static async Task<ChosenOrganization?> FindVisibleAsync(TokenServerDb db, string slug, Caller caller, CancellationToken cancellationToken) =>
        (await caller.OrganizationAsync(slug, db, cancellationToken)).Organization;

    private static async Task<Results<Ok<List<MemberResponse>>, ProblemHttpResult>> ListMembers(string slug, Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        if (await FindVisibleAsync(db, slug, caller, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        var members = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == found.Id)
            .OrderBy(m => m.Account.Email)
            .Select(m => new MemberResponse(m.AccountId, m.Account.Email, m.Account.FullName, m.Role, m.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(members);
    }

    private static async Task<Results<Created<MemberResponse>, ValidationProblem, ProblemHttpResult>> AddMember(
        string slug, [FromBody] AddMemberRequest request, Caller caller, TokenServerDb db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindVisibleAsync(db, slug, caller, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        if (!caller.Manages(found))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Organization admins only", "Only an admin of this organization can add members.");
        }

        var role = request.Role ?? MembershipRoles.Member;
        if (string.IsNullOrWhiteSpace(request.Email) || !MembershipRoles.All.Contains(role))
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                [string.IsNullOrWhiteSpace(request.Email) ? "email" : "role"] = [string.IsNullOrWhiteSpace(request.Email) ? "Give the email of an existing account." : "Choose member or admin."],
            });
        }

        var normalized = CredentialChecker.Normalize(request.Email);
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized, cancellationToken);
        if (account is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "No such account", "No account has this email. Ask the person to register first.");
        }

        var existing = await db.Memberships.FirstOrDefaultAsync(m => m.OrganizationId == found.Id && m.AccountId == account.Id, cancellationToken);
        if (existing is null)
        {
            existing = new Membership { OrganizationId = found.Id, AccountId = account.Id, Role = role, CreatedAt = time.GetUtcNow() };
            db.Memberships.Add(existing);
        }
        else
        {
            existing.Role = role;
        }

        audit.Record(AuditEventTypes.MembershipAdded, account.Id, $"{slug} as {role}", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/organizations/{slug}/members", new MemberResponse(account.Id, account.Email, account.FullName, existing.Role, existing.CreatedAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMember(
        string slug, long accountId, Caller caller, TokenServerDb db, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await FindVisibleAsync(db, slug, caller, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        if (!caller.Manages(found))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Organization admins only", "Only an admin of this organization can remove members.");
        }

        var membership = await db.Memberships.FirstOrDefaultAsync(m => m.OrganizationId == found.Id && m.AccountId == accountId, cancellationToken);
        if (membership is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Not a member", "This account is not a member of the organization.");
        }

        db.Memberships.Remove(membership);
        audit.Record(AuditEventTypes.MembershipRemoved, accountId, slug, caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "Organization not found", "No organization with this slug is visible to you.");
}
