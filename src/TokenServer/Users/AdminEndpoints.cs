using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Users;

public sealed record Page<T>(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] IReadOnlyList<T> Results);

public sealed record AdminAccountResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("locked_until")] DateTimeOffset? LockedUntil,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_login_at")] DateTimeOffset? LastLoginAt);

public sealed record AccountPatch(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("status")] string? Status);

public sealed record PasswordResetRequest([property: JsonPropertyName("new_password")] string? NewPassword);

public sealed record KeyRotationResponse(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("activates_at")] DateTimeOffset ActivatesAt);

/// <summary>/api/v1/admin: accounts and signing keys. Admin only, audited.</summary>
public static class AdminEndpoints
{
    private const int PageSize = 50;

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Policies.Admin);
        group.MapGet("/accounts", ListAccounts).WithSummary("Find accounts by email, username or name");
        group.MapPatch("/accounts/{id:long}", PatchAccount).WithSummary("Change an account's role or status (disabling revokes its sessions)");
        group.MapPost("/accounts/{id:long}/unlock", Unlock).WithSummary("Clear a lockout");
        group.MapPost("/accounts/{id:long}/password", ResetPassword).WithSummary("Set a new password; every session of the account is revoked");
        group.MapPost("/keys/rotate", RotateKey).WithSummary("Create a new signing key; it is published at once and signs after TokenServer:Keys:PublishLead");
        return app;
    }

    private static AdminAccountResponse ToAdmin(Account a) => new(a.Id, a.Email, a.Username, a.FullName, a.Role, a.Status, a.LockoutEnd, a.CreatedAt, a.LastLoginAt);

    private static async Task<Results<Ok<Page<AdminAccountResponse>>, ValidationProblem>> ListAccounts(
        HttpRequest request, TokenServerDb db, string? q, int? page, CancellationToken cancellationToken)
    {
        var number = page ?? 1;
        if (number < 1)
        {
            return Problems.Field("page", "Pages are numbered from 1.");
        }

        var query = db.Accounts.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var needle = q.Trim().ToUpperInvariant();
#pragma warning disable CA1862 // EF Core translates ToUpper() to SQL UPPER(); the StringComparison overloads do not translate.
            query = query.Where(a => a.NormalizedEmail.Contains(needle) || (a.NormalizedUsername != null && a.NormalizedUsername.Contains(needle)) || a.FullName.ToUpper().Contains(needle));
#pragma warning restore CA1862
        }

        var count = await query.CountAsync(cancellationToken);
        var rows = await query.OrderBy(a => a.Id).Skip((number - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new Page<AdminAccountResponse>(count, PageLink(request, number + 1, count), number > 1 ? PageLink(request, number - 1, count) : null, rows.Select(ToAdmin).ToList()));
    }

    private static string? PageLink(HttpRequest request, int page, int count)
    {
        if (page < 1 || (page - 1) * PageSize >= count)
        {
            return null;
        }

        var query = QueryString.Create(request.Query.Where(p => p.Key != "page").Append(new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{query}";
    }

    private static async Task<Results<Ok<AdminAccountResponse>, ValidationProblem, ProblemHttpResult>> PatchAccount(
        long id, [FromBody] AccountPatch patch, HttpContext http, TokenServerDb db, SessionTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (patch.Role is not null && !AccountRoles.All.Contains(patch.Role))
        {
            errors["role"] = [$"Choose one of: {string.Join(", ", AccountRoles.All)}."];
        }

        if (patch.Status is not null && !AccountStatuses.All.Contains(patch.Status))
        {
            errors["status"] = [$"Choose one of: {string.Join(", ", AccountStatuses.All)}."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return NotFound();
        }

        var changes = new List<string>();
        if (patch.Role is not null && patch.Role != account.Role)
        {
            changes.Add($"role {account.Role} -> {patch.Role}");
            account.Role = patch.Role;
        }

        var disabling = patch.Status == AccountStatuses.Disabled && account.Status != AccountStatuses.Disabled;
        if (patch.Status is not null && patch.Status != account.Status)
        {
            changes.Add($"status {account.Status} -> {patch.Status}");
            account.Status = patch.Status;
        }

        if (changes.Count > 0)
        {
            audit.Record(AuditEventTypes.AccountUpdated, account.Id, string.Join("; ", changes), http.User.AccountId());
            await db.SaveChangesAsync(cancellationToken);
        }

        if (disabling)
        {
            await sessions.RevokeAccountSessionsAsync(account.Id, null, RevocationReasons.AccountDisabled, cancellationToken);
        }

        return TypedResults.Ok(ToAdmin(account));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Unlock(long id, HttpContext http, TokenServerDb db, AuditLog audit, LoginThrottles throttles, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return NotFound();
        }

        await throttles.ClearAccountAsync(account, cancellationToken);
        account.LockoutEnd = null;
        audit.Record(AuditEventTypes.AccountUnlocked, account.Id, actorId: http.User.AccountId());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPassword(
        long id, [FromBody] PasswordResetRequest body, HttpContext http, TokenServerDb db, PasswordHasher hasher, SessionTokens sessions,
        AuditLog audit, LoginThrottles throttles, IOptions<PasswordOptions> passwordOptions, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return NotFound();
        }

        if (PasswordPolicy.Check(body.NewPassword, account.Email, passwordOptions.Value) is { } problem)
        {
            return Problems.Field("new_password", problem);
        }

        account.PasswordHash = await hasher.HashAsync(body.NewPassword!, cancellationToken);
        account.SecurityStamp = Guid.NewGuid().ToString("N");
        await throttles.ClearAccountAsync(account, cancellationToken);
        account.LockoutEnd = null;
        audit.Record(AuditEventTypes.PasswordReset, account.Id, actorId: http.User.AccountId());
        await db.SaveChangesAsync(cancellationToken);
        await sessions.RevokeAccountSessionsAsync(account.Id, null, RevocationReasons.PasswordReset, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<KeyRotationResponse>> RotateKey(HttpContext http, SigningKeyRing keys, TokenServerDb db, AuditLog audit, CancellationToken cancellationToken)
    {
        var key = await keys.RotateAsync(cancellationToken);
        audit.Record(AuditEventTypes.KeyRotated, null, $"kid {key.Id}", http.User.AccountId());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new KeyRotationResponse(key.Id, key.ActivatesAt));
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "Account not found", "No account has this id. Find ids with GET /api/v1/admin/accounts?q=.");
}
