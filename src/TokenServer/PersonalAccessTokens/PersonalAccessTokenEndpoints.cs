using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Organizations;
using TokenServer.Store;
using TokenServer.Users;
using TokenServer.Tokens;

namespace TokenServer.PersonalAccessTokens;

/// <summary>A person's own personal access tokens (CONTRACTS.md "Personal access tokens").</summary>
public static class PersonalAccessTokenEndpoints
{
    public const int MaxNameLength = 100;

    public static IEndpointRouteBuilder MapPersonalAccessTokens(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth/personal-access-tokens").WithTags("Personal access tokens").WithNoStore().RequireAuthorization();
        group.MapPost("/", Create).RefusePersonalAccessTokens()
            .DocumentsBody<CreatePersonalAccessTokenRequest>("application/json")
            .WithSummary("Create a personal access token (shown once in this answer)")
            .WithDescription("Scopes: read (GET routes), write (also resource writes), admin (also admin routes; admins only). Needs a login's access token: a personal access token cannot create another.");
        group.MapGet("/", List).WithSummary("Your personal access tokens that are not revoked (never the token itself)");
        group.MapDelete("/{id}", Revoke).WithSummary("Revoke one of your personal access tokens; every instance refuses it within a second");
        return app;
    }

    private static async Task<Results<Created<CreatedPersonalAccessToken>, ValidationProblem, ProblemHttpResult>> Create(
        HttpRequest request, TokenServerDb db, AuditLog audit, IOptions<PersonalAccessTokenOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<CreatePersonalAccessTokenRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return body.Error == BodyError.Empty
                ? Problems.Field("name", "Send {\"name\": \"...\", \"scopes\": [\"read\"], \"expires_at\": \"2027-01-01T00:00:00Z\"} (expires_at is optional).")
                : AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var now = time.GetUtcNow();
        var o = options.Value;
        var r = body.Value!;
        var errors = new Dictionary<string, string[]>();
        var name = r.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            errors["name"] = [$"Give the token a name of 1 to {MaxNameLength} characters (no control characters) that says what uses it."];
        }

        if (r.Scopes is not { Count: > 0 } || r.Scopes.Any(s => PersonalAccessTokenScopes.Level(s) == 0))
        {
            errors["scopes"] = ["Send \"scopes\" as a non-empty list of \"read\", \"write\" and \"admin\"."];
        }

        var expiresAt = r.ExpiresAt ?? now + o.DefaultLifetime;
        if (expiresAt <= now || expiresAt > now + o.MaxLifetime)
        {
            errors["expires_at"] = [$"Choose an expiry in the future and at most {o.MaxLifetime.TotalDays:0.##} days from now (before {now + o.MaxLifetime:O}), or leave it out for {o.DefaultLifetime.TotalDays:0.##} days."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var accountId = (await Caller.OfAsync(request.HttpContext)).AccountId;
        var account = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == accountId && a.Status == AccountStatuses.Active)
            .Select(a => new { a.Id, a.Role, IsServiceUser = db.Set<ServiceUser>().Any(s => s.AccountId == a.Id) })
            .FirstOrDefaultAsync(cancellationToken);
        if (account is null || account.IsServiceUser)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Not a person's account",
                "Personal access tokens are for people's active accounts. A service user's tokens are made by an organization admin (POST /api/v1/organizations/{slug}/service-users/{id}/tokens).");
        }

        var scopes = PersonalAccessTokenScopes.All.Where(s => r.Scopes!.Contains(s, StringComparer.Ordinal)).ToList();
        var maxLevel = PersonalAccessTokenScopes.MaxLevelFor(account.Role);
        if (scopes.FirstOrDefault(s => PersonalAccessTokenScopes.Level(s) > maxLevel) is { } tooMuch)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Scope beyond your role",
                $"Your role ({account.Role}) cannot grant the '{tooMuch}' scope: a token never holds more than its creator. Ask for {string.Join(", ", PersonalAccessTokenScopes.All.Where(s => PersonalAccessTokenScopes.Level(s) <= maxLevel))}.");
        }

        var token = PersonalAccessTokenFormat.Generate();
        var row = new PersonalAccessToken
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            AccountId = account.Id,
            Name = name!,
            TokenHash = OpaqueTokens.Hash(token),
            Scopes = string.Join(' ', scopes),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.Set<PersonalAccessToken>().Add(row);
        audit.Record(PersonalAccessTokenAuditEvents.Created, account.Id, $"token {row.Id} ({row.Scopes}) until {expiresAt:O}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created((string?)null, new CreatedPersonalAccessToken(row.Id, row.Name, scopes, row.ExpiresAt, token));
    }

    private static async Task<Ok<List<PersonalAccessTokenResponse>>> List(Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        var accountId = caller.AccountId;
        var rows = await db.Set<PersonalAccessToken>().AsNoTracking()
            .Where(t => t.AccountId == accountId && t.RevokedAt == null)
            .OrderByDescending(t => t.CreatedAt)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(t => new PersonalAccessTokenResponse(t.Id, t.Name, t.Scopes.Split(' '), t.CreatedAt, t.ExpiresAt, t.LastUsedAt)).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        string id, Caller caller, PersonalAccessTokenRevocation revocation, AuditLog audit, TokenServerDb db, CancellationToken cancellationToken)
    {
        var accountId = caller.AccountId!.Value;
        if (!await revocation.RevokeAsync(accountId, id, cancellationToken))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "No such token",
                "You have no live personal access token with this id. GET /api/v1/auth/personal-access-tokens lists yours.");
        }

        audit.Record(PersonalAccessTokenAuditEvents.Revoked, accountId, $"token {id}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}

public static class PersonalAccessTokenAuditEvents
{
    public const string Created = "personal_access_token.created";
    public const string Revoked = "personal_access_token.revoked";
}
