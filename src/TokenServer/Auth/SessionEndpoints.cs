using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Hosting;
using TokenServer.PersonalAccessTokens;
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

    private static async Task<Ok<List<SessionResponse>>> List(Caller caller, AccountSessions sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(caller.AccountId is { } accountId ? await sessions.ListAsync(accountId, caller.SessionId, cancellationToken) : []);

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeOne(string id, Caller caller, AccountSessions sessions, CancellationToken cancellationToken) =>
        caller.AccountId is { } accountId && await sessions.EndAsync(accountId, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.Create(StatusCodes.Status404NotFound, "Session not found", "You have no live session with this id. List yours with GET /api/v1/auth/sessions.");

    private static async Task<NoContent> RevokeOthers(Caller caller, AccountSessions sessions, CancellationToken cancellationToken)
    {
        if (caller.AccountId is { } accountId)
        {
            await sessions.EndOthersAsync(accountId, caller.SessionId, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        HttpRequest request, Caller caller, PasswordChange passwords, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<PasswordChangeRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        if (caller.AccountId is not { } accountId)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Account not found", "The account behind this token no longer exists.");
        }

        return await passwords.ChangeAsync(accountId, caller.SessionId, body.Value!.CurrentPassword, body.Value.NewPassword, AuthEndpoints.Dialect, cancellationToken) switch
        {
            null => TypedResults.NoContent(),
            { Field: PasswordChange.AccountGone } gone => Problems.Create(StatusCodes.Status404NotFound, "Account not found", gone.Message),
            var error => Problems.Field(error.Field, error.Message),
        };
    }
}
