using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Auth;

public sealed record SessionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset LastUsedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("client_address")] string? ClientAddress,
    [property: JsonPropertyName("user_agent")] string? UserAgent,
    [property: JsonPropertyName("dialect")] string Dialect,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("current")] bool Current);

public sealed record PasswordChangeRequest(
    [property: JsonPropertyName("current_password")] string? CurrentPassword,
    [property: JsonPropertyName("new_password")] string? NewPassword);

/// <summary>
/// The caller's own login sessions and password (CONTRACTS.md, accounts table; ASVS V3.3).
/// Every revocation goes through <see cref="SessionTokens"/>, which updates this instance's
/// revocation list at once, so a revoked token fails on the very next request.
/// </summary>
public static class SessionEndpoints
{
    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("Sessions").WithNoStore().RequireAuthorization();
        group.MapGet("/sessions", List).WithSummary("The caller's live login sessions, newest first; 'current' marks the one this token belongs to");
        group.MapDelete("/sessions/{id}", RevokeOne).WithSummary("End one of the caller's sessions and every token issued in it");
        group.MapDelete("/sessions", RevokeOthers).WithSummary("End every session of the caller except the current one");
        group.MapPost("/password", ChangePassword).RequireCredentialRateLimit().RefusePersonalAccessTokens()
            .DocumentsBody<PasswordChangeRequest>("application/json")
            .WithSummary("Change the caller's password; every other session is ended");
        return app;
    }

    private static async Task<Ok<List<SessionResponse>>> List(Caller caller, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var accountId = caller.AccountId;
        var current = caller.SessionId;
        var now = time.GetUtcNow();
        var rows = await db.Sessions.AsNoTracking()
            .Where(s => s.AccountId == accountId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.CreatedAt)
            .Select(s => new SessionResponse(s.Id, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.ClientAddress, s.UserAgent, s.Dialect, s.ClientId, s.Id == current))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(rows);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeOne(
        string id, Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var accountId = caller.AccountId;
        var now = time.GetUtcNow();

        // Authorization in the WHERE clause: another account's session does not exist (404).
        var mine = await db.Sessions.AsNoTracking().AnyAsync(s => s.Id == id && s.AccountId == accountId && s.RevokedAt == null && s.ExpiresAt > now, cancellationToken);
        if (!mine)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Session not found",
                "You have no live session with this id. List yours with GET /api/v1/auth/sessions.");
        }

        await sessions.RevokeSessionAsync(id, RevocationReasons.UserRequest, cancellationToken);
        audit.Record(AuditEventTypes.SessionRevoked, accountId, $"session {id}", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RevokeOthers(Caller caller, TokenServerDb db, SessionTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        if (caller.AccountId is not { } accountId)
        {
            return TypedResults.NoContent();
        }

        var count = await sessions.RevokeAccountSessionsAsync(accountId, caller.SessionId, RevocationReasons.UserRequest, cancellationToken);
        audit.Record(AuditEventTypes.SessionRevoked, accountId, $"{count} other sessions", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        HttpRequest request, Caller caller, TokenServerDb db, CredentialChecker credentials, PasswordHasher hasher, SessionTokens sessions,
        AuditLog audit, IOptions<PasswordOptions> passwordOptions, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<PasswordChangeRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var r = body.Value!;
        if (string.IsNullOrEmpty(r.CurrentPassword))
        {
            return Problems.Field("current_password", "Send your current password as current_password.");
        }

        var accountId = caller.AccountId;
        var email = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => a.Email).FirstOrDefaultAsync(cancellationToken);
        if (email is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Account not found", "The account behind this token no longer exists.");
        }

        // The one password check (lockout and audit included), so a stolen access token cannot
        // be used to guess the password any faster than the login route allows.
        var check = await credentials.CheckAsync(email, r.CurrentPassword, AuthEndpoints.Dialect, cancellationToken, CredentialUse.Reauthenticate);
        if (!check.PasswordMatched)
        {
            return Problems.Field("current_password", "The current password is wrong (or the account is locked for a while after too many wrong passwords). Check it and try again.");
        }

        var account = check.Account!;
        if (PasswordPolicy.Check(r.NewPassword, account.Email, passwordOptions.Value) is { } problem)
        {
            return Problems.Field("new_password", problem);
        }

        if (string.Equals(r.NewPassword, r.CurrentPassword, StringComparison.Ordinal))
        {
            return Problems.Field("new_password", "Choose a password different from the current one.");
        }

        account.PasswordHash = await hasher.HashAsync(r.NewPassword!, cancellationToken);
        account.SecurityStamp = Guid.NewGuid().ToString("N");
        audit.Record(AuditEventTypes.PasswordChanged, account.Id, actorId: account.Id, dialect: AuthEndpoints.Dialect);
        await db.SaveChangesAsync(cancellationToken);

        // ASVS V3.3.3: a password change ends every other session, and with them every access
        // token they issued (their sid is revoked); the caller's own session stays.
        await sessions.RevokeAccountSessionsAsync(account.Id, caller.SessionId, RevocationReasons.PasswordChanged, cancellationToken);
        return TypedResults.NoContent();
    }
}
