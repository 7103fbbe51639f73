using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Oidc;

/// <summary>/api/v1/admin/clients: the registered OpenID Connect clients (CONTRACTS.md). Admin only, audited.</summary>
public static class ClientEndpoints
{
    public const string AuditCreated = "client.created";
    public const string AuditUpdated = "client.updated";
    public const string AuditDeleted = "client.deleted";

    public static IEndpointRouteBuilder MapOidcClients(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/clients").WithTags("Admin").WithNoStore().RequireAuthorization(Policies.Admin);
        group.MapPost("/", Create).WithSummary("Register an OpenID Connect client; a confidential client's secret is in this answer only");
        group.MapGet("/", List).WithSummary("Every registered client, without secrets");
        group.MapGet("/{clientId}", Get).WithSummary("One registered client, without its secret");
        group.MapPatch("/{clientId}", Patch).WithSummary("Change a client's registration (fields left out keep their value)");
        group.MapDelete("/{clientId}", Delete).WithSummary("Remove a client; its users' sessions with it end");
        return app;
    }

    private static async Task<Results<Created<ClientResponse>, ValidationProblem, ProblemHttpResult>> Create(
        ClientRequest body, ClientRegistry registry, Caller caller, CancellationToken cancellationToken)
    {
        var registration = await registry.RegisterAsync(body, caller.AccountId, cancellationToken);
        if (registration.Exists)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Client exists", $"A client with client_id '{body.ClientId}' is already registered: PATCH it, or choose another client_id.");
        }

        if (registration.Client is not { } client)
        {
            return Problems.Validation(registration.Errors);
        }

        return TypedResults.Created($"/api/v1/admin/clients/{client.ClientId}", ClientResponse.From(client, registration.Secret));
    }

    private static async Task<Ok<List<ClientResponse>>> List(TokenServerDb db, CancellationToken cancellationToken)
    {
        var clients = await db.Set<OidcClient>().AsNoTracking().OrderBy(c => c.ClientId).ToListAsync(cancellationToken);
        return TypedResults.Ok(clients.Select(c => ClientResponse.From(c)).ToList());
    }

    private static async Task<Results<Ok<ClientResponse>, ProblemHttpResult>> Get(string clientId, ClientRegistry registry, CancellationToken cancellationToken) =>
        await registry.FindAsync(clientId, cancellationToken) is { } client ? TypedResults.Ok(ClientResponse.From(client)) : NotFound(clientId);

    private static async Task<Results<Ok<ClientResponse>, ValidationProblem, ProblemHttpResult>> Patch(
        string clientId, ClientRequest body, ClientRegistry registry, AuditLog audit, TokenServerDb db, Caller caller, CancellationToken cancellationToken)
    {
        if (await registry.FindAsync(clientId, cancellationToken) is not { } client)
        {
            return NotFound(clientId);
        }

        if (body.ClientId is not null && body.ClientId != clientId)
        {
            return Problems.Field("client_id", "A client_id cannot change: register a new client instead.");
        }

        var errors = registry.Apply(body, client, creating: false);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        audit.Record(AuditUpdated, null, clientId, caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ClientResponse.From(client));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string clientId, ClientRegistry registry, SessionTokens sessions, AuditLog audit, TokenServerDb db, Caller caller, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await registry.FindAsync(clientId, cancellationToken) is not { } client)
        {
            return NotFound(clientId);
        }

        // Tokens the client holds stop working with it: its sessions end (RFC 7009 §2.1 in spirit).
        var now = time.GetUtcNow();
        var live = await db.Sessions.AsNoTracking()
            .Where(s => s.ClientId == clientId && s.Scope != null && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        foreach (var id in live)
        {
            await sessions.RevokeSessionAsync(id, RevocationReasons.Revoked, cancellationToken);
        }

        db.Set<OidcClient>().Remove(client);
        audit.Record(AuditDeleted, null, clientId, caller.AccountId);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string clientId) =>
        Problems.Create(StatusCodes.Status404NotFound, "No such client", $"No client with client_id '{clientId}' is registered; GET /api/v1/admin/clients lists them.");
}
