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

public sealed record KeyWithdrawalResponse(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("withdrawn_at")] DateTimeOffset WithdrawnAt);

public sealed record KeyRotationResponse(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("activates_at")] DateTimeOffset ActivatesAt);

/// <summary>/api/v1/admin: accounts and signing keys. Admin only, audited.</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Policies.Admin);
        group.MapGet("/accounts", ListAccounts).WithSummary("Find accounts by email, username or name");
        group.MapPatch("/accounts/{id:long}", PatchAccount).WithSummary("Change an account's role or status (either change revokes its sessions)");
        group.MapPost("/accounts/{id:long}/unlock", Unlock).WithSummary("Clear a lockout");
        group.MapPost("/accounts/{id:long}/password", ResetPassword).WithSummary("Set a new password; every session of the account is revoked");
        group.MapPost("/keys/{kid}/withdraw", WithdrawKey)
            .WithSummary("Withdraw a signing key at once (suspected leak): tokens it signed fail on every instance within a poll interval; if it was signing, a new key signs from now");
        group.MapPost("/keys/rotate", RotateKey).WithSummary("Create a new signing key; it is published at once and signs after TokenServer:Keys:PublishLead");
        return app;
    }

    private static AdminAccountResponse ToAdmin(Account a) => new(a.Id, a.Email, a.Username, a.FullName, a.Role, a.Status, a.LockoutEnd, a.CreatedAt, a.LastLoginAt);

    private static async Task<Results<Ok<Page<AdminAccountResponse>>, ValidationProblem>> ListAccounts(
        HttpRequest request, TokenServerDb db, string? q, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
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
        var rows = await query.OrderBy(a => a.Id).Skip(paging.Skip).Take(paging.Size).ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.ToPage(request, count, rows.Select(ToAdmin).ToList()));
    }

    private static async Task<Results<Ok<AdminAccountResponse>, ValidationProblem, ProblemHttpResult>> PatchAccount(
        long id, [FromBody] AccountPatch patch, Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, CancellationToken cancellationToken)
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
        var roleChanging = patch.Role is { } role && role != account.Role;
        if (patch.Role is { } newRole && roleChanging)
        {
            changes.Add($"role {account.Role} -> {newRole}");
            account.Role = newRole;
        }

        var disabling = patch.Status == AccountStatuses.Disabled && account.Status != AccountStatuses.Disabled;
        if (patch.Status is not null && patch.Status != account.Status)
        {
            changes.Add($"status {account.Status} -> {patch.Status}");
            account.Status = patch.Status;
        }

        if (changes.Count > 0)
        {
            audit.Record(AuditEventTypes.AccountUpdated, account.Id, string.Join("; ", changes), caller.AccountId);
            await db.SaveChangesAsync(cancellationToken);
        }

        // Saved first, then every session revoked: a login in flight either reads the change or
        // has its new session caught (Tokens/SessionTokens.cs, StartAsync). A new role takes
        // effect at once anyway (Users/Caller.cs); ending the sessions also retires the old
        // role claim in tokens other servers read (docs/security.md, "Account changes end sessions").
        if (disabling || roleChanging)
        {
            await sessions.RevokeAccountSessionsAsync(account.Id, null, disabling ? RevocationReasons.AccountDisabled : RevocationReasons.RoleChanged, cancellationToken);
        }

        return TypedResults.Ok(ToAdmin(account));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Unlock(long id, Caller caller, TokenServerDb db, AuditLog audit, LoginThrottles throttles, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return NotFound();
        }

        await throttles.ClearAccountAsync(account, cancellationToken);
        account.LockoutEnd = null;
        audit.Record(AuditEventTypes.AccountUnlocked, account.Id, actorId: caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPassword(
        long id, [FromBody] PasswordResetRequest body, Caller caller, TokenServerDb db, PasswordHasher hasher, SessionTokens sessions,
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
        audit.Record(AuditEventTypes.PasswordReset, account.Id, actorId: caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        await sessions.RevokeAccountSessionsAsync(account.Id, null, RevocationReasons.PasswordReset, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<KeyRotationResponse>> RotateKey(Caller caller, SigningKeyRing keys, TokenServerDb db, AuditLog audit, CancellationToken cancellationToken)
    {
        var key = await keys.RotateAsync(cancellationToken);
        audit.Record(AuditEventTypes.KeyRotated, null, $"kid {key.Id}", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new KeyRotationResponse(key.Id, key.ActivatesAt));
    }

    private static async Task<Results<Ok<KeyWithdrawalResponse>, ProblemHttpResult>> WithdrawKey(
        string kid, Caller caller, SigningKeyRing keys, TokenServerDb db, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await keys.WithdrawAsync(kid, cancellationToken) is not { WithdrawnAt: { } withdrawnAt } key)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Key not found",
                "No published signing key has this kid (it may be withdrawn already). The kids in use are in GET /.well-known/jwks.json.");
        }

        audit.Record(AuditEventTypes.KeyWithdrawn, null, $"kid {key.Id}", caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new KeyWithdrawalResponse(key.Id, withdrawnAt));
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "Account not found", "No account has this id. Find ids with GET /api/v1/admin/accounts?q=.");
}
