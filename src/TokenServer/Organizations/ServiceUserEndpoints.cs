using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Organizations;

public sealed record CreateServiceUserRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("role")] string? Role);

/// <summary>The only time the client secret is shown (CONTRACTS.md: "secret shown once").</summary>
public sealed record ServiceUserCreated(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret")] string ClientSecret);

public sealed record ServiceUserTokenSummary(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt);

public sealed record ServiceUserResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("tokens")] IReadOnlyList<ServiceUserTokenSummary> Tokens);

public sealed record CreateServiceUserTokenRequest([property: JsonPropertyName("expires_in_days")] int? ExpiresInDays);

public sealed record ServiceUserTokenResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt);

/// <summary>
/// An organization's service users and their long-lived tokens (CONTRACTS.md "Accounts,
/// organizations, service users"). Organization admins (and system admins) only; an
/// organization the caller cannot see does not exist (404).
/// </summary>
public static class ServiceUserEndpoints
{
    public const int DefaultTokenDays = 30;

    /// <summary>Signing keys stay in JWKS 366 days after retirement (TokenServer:Keys:RetainAfterRetirement), so no token may live longer.</summary>
    public const int MaxTokenDays = 365;

    public static IEndpointRouteBuilder MapServiceUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/organizations/{slug}/service-users").WithTags("Organizations").RequireAuthorization();
        group.MapGet("/", List).WithSummary("Service users of an organization and their live tokens (organization admins)");
        group.MapPost("/", Create).WithNoStore().Accepts<CreateServiceUserRequest>("application/json")
            .WithSummary("Create a service user; its client_secret is shown only in this answer");
        group.MapDelete("/{id:long}", Delete).WithSummary("Delete a service user; its tokens stop working at once");
        group.MapPost("/{id:long}/tokens", CreateToken).WithNoStore().Accepts<CreateServiceUserTokenRequest>("application/json")
            .WithSummary($"Mint a long-lived token (expires_in_days 1 to 365, default 30)");
        group.MapDelete("/{id:long}/tokens/{tokenId}", RevokeToken).WithSummary("Revoke one token of a service user");
        return app;
    }

    private static async Task<(ChosenOrganization Organization, ProblemHttpResult? Problem)> ManagedAsync(TokenServerDb db, string slug, Caller caller, CancellationToken cancellationToken)
    {
        if (await OrganizationEndpoints.FindVisibleAsync(db, slug, caller, cancellationToken) is not { } found)
        {
            return (null!, Problems.Create(StatusCodes.Status404NotFound, "Organization not found", "No organization with this slug is visible to you."));
        }

        return caller.Manages(found)
            ? (found, null)
            : (found, Problems.Create(StatusCodes.Status403Forbidden, "Organization admins only", "Only an admin of this organization can manage its service users."));
    }

    private static IQueryable<ServiceUser> Of(TokenServerDb db, long organizationId) => db.Set<ServiceUser>().Where(s => s.OrganizationId == organizationId);

    private static async Task<Results<Ok<List<ServiceUserResponse>>, ProblemHttpResult>> List(
        string slug, Caller caller, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (organization, problem) = await ManagedAsync(db, slug, caller, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var now = time.GetUtcNow();
        var rows = await Of(db, organization.Id).AsNoTracking().OrderBy(s => s.Name)
            .Select(s => new { s.Id, s.Name, s.Account.Role, s.ClientId, s.CreatedAt, s.AccountId })
            .ToListAsync(cancellationToken);
        var accountIds = rows.Select(r => r.AccountId).ToList();
        var sessions = await db.Sessions.AsNoTracking()
            .Where(s => accountIds.Contains(s.AccountId) && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => new { s.AccountId, s.Id, s.CreatedAt, s.ExpiresAt })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(r => new ServiceUserResponse(r.Id, r.Name, r.Role, r.ClientId, r.CreatedAt,
            sessions.Where(s => s.AccountId == r.AccountId).OrderBy(s => s.CreatedAt).Select(s => new ServiceUserTokenSummary(s.Id, s.CreatedAt, s.ExpiresAt)).ToList())).ToList());
    }

    private static async Task<Results<Created<ServiceUserCreated>, ValidationProblem, ProblemHttpResult>> Create(
        string slug, HttpRequest request, Caller caller, TokenServerDb db, ServiceUserRegistry registry, CancellationToken cancellationToken)
    {
        var (organization, problem) = await ManagedAsync(db, slug, caller, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var body = await LenientBody.ReadAsync<CreateServiceUserRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var name = body.Value!.Name;
        var role = body.Value.Role ?? ServiceUserRegistry.DefaultRole;
        if (ServiceUserRegistry.Validate(name, role) is { } invalid)
        {
            return Problems.Field(invalid.Field, invalid.Message);
        }

        // docs/security.md, "Service-user roles": a service user acts for whoever made it, so it
        // gets no more than its maker's own system role allows.
        if (AccountRoles.Rank(role) > AccountRoles.Rank(caller.Role))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Role above your own",
                $"Your own role is {caller.Role}, so a service user you create can be at most {caller.Role}. Choose a lower role, or ask a system admin.");
        }

        var (serviceUser, _, secret) = await registry.CreateAsync(organization.Id, slug, name!, role, caller.AccountId, cancellationToken);
        return TypedResults.Created($"/api/v1/organizations/{slug}/service-users/{serviceUser.Id}",
            new ServiceUserCreated(serviceUser.Id, serviceUser.Name, role, serviceUser.ClientId, secret));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string slug, long id, Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        var (organization, problem) = await ManagedAsync(db, slug, caller, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var serviceUser = await Of(db, organization.Id).Include(s => s.Account).FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (serviceUser is null)
        {
            return ServiceUserNotFound();
        }

        // Disabled first, then every session revoked: a token grant in flight either sees the
        // account disabled or has its new session caught by the revocation (Tokens/SessionTokens.cs, StartAsync).
        serviceUser.Account.Status = AccountStatuses.Disabled;
        db.Memberships.RemoveRange(await db.Memberships.Where(m => m.AccountId == serviceUser.AccountId).ToListAsync(cancellationToken));
        db.Set<ServiceUser>().Remove(serviceUser);
        audit.Record(ServiceUserAuditEvents.Deleted, serviceUser.AccountId, $"{slug}: {serviceUser.Name} ({serviceUser.ClientId})", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        await sessions.RevokeAccountSessionsAsync(serviceUser.AccountId, null, RevocationReasons.AccountDeleted, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<ServiceUserTokenResponse>, ValidationProblem, ProblemHttpResult>> CreateToken(
        string slug, long id, HttpRequest request, Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, IOptions<TokenOptions> tokenOptions, CancellationToken cancellationToken)
    {
        var (organization, problem) = await ManagedAsync(db, slug, caller, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var days = DefaultTokenDays;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await LenientBody.ReadAsync<CreateServiceUserTokenRequest>(request, cancellationToken);
            if (body.Error is BodyError.Malformed or BodyError.TooLarge)
            {
                return AuthEndpoints.BodyProblem(body.Error, body.Message!);
            }

            days = body.Value?.ExpiresInDays ?? DefaultTokenDays;
        }

        if (days is < 1 or > MaxTokenDays)
        {
            return Problems.Field("expires_in_days", $"Choose a whole number of days from 1 to {MaxTokenDays}, or leave it out for {DefaultTokenDays}.");
        }

        // A token must not outlive its signing key in JWKS, or resource servers could no longer verify it.
        var retained = tokenOptions.Value.Keys.RetainAfterRetirement;
        if (TimeSpan.FromDays(days) > retained)
        {
            return Problems.Field("expires_in_days", $"This server keeps retired signing keys for {retained.TotalDays:0} days (TokenServer:Keys:RetainAfterRetirement); choose fewer days.");
        }

        var serviceUser = await Of(db, organization.Id).Include(s => s.Account).FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (serviceUser is null)
        {
            return ServiceUserNotFound();
        }

        // Each token is a session of its own, so it can be listed and revoked alone.
        var lifetime = TimeSpan.FromDays(days);
        audit.Record(ServiceUserAuditEvents.TokenCreated, serviceUser.AccountId, $"{slug}: {serviceUser.ClientId}, {days} days", caller.AccountId);
        var issued = await sessions.StartAsync(serviceUser.Account,
            new SessionRequest(ServiceUserSecrets.Dialect, serviceUser.ClientId, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime), cancellationToken);
        return TypedResults.Created($"/api/v1/organizations/{slug}/service-users/{id}/tokens/{issued.SessionId}",
            new ServiceUserTokenResponse(issued.SessionId, issued.Access.Token, issued.Access.ExpiresAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeToken(
        string slug, long id, string tokenId, Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        var (organization, problem) = await ManagedAsync(db, slug, caller, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var owned = await Of(db, organization.Id)
            .Where(s => s.Id == id)
            .Join(db.Sessions.Where(x => x.Id == tokenId), s => s.AccountId, x => x.AccountId, (s, x) => s.AccountId)
            .AnyAsync(cancellationToken);
        if (!owned)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Token not found", "This service user has no token with this id. List them with GET on the service-users collection.");
        }

        await sessions.RevokeSessionAsync(tokenId, RevocationReasons.Revoked, cancellationToken);
        audit.Record(AuditEventTypes.TokenRevoked, null, $"{slug}: service user {id}, token {tokenId}", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult ServiceUserNotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "Service user not found", "This organization has no service user with this id.");
}
