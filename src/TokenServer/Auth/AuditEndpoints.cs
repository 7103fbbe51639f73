using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Auth;

public sealed record AuditEventResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("account_id")] long? AccountId,
    [property: JsonPropertyName("actor_id")] long? ActorId,
    [property: JsonPropertyName("dialect")] string? Dialect,
    [property: JsonPropertyName("client_address")] string? ClientAddress,
    [property: JsonPropertyName("detail")] string? Detail);

/// <summary>GET /api/v1/admin/audit (CONTRACTS.md, accounts table): the audit log, newest first, admin only.</summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/admin/audit", List).WithTags("Admin").RequireAuthorization(Policies.Admin)
            .WithSummary("Audit events, newest first; filter by type, account_id, from and to (ISO 8601), paged with page and page_size");
        return app;
    }

    private static async Task<Results<Ok<Page<AuditEventResponse>>, ValidationProblem>> List(
        HttpRequest request, TokenServerDb db, string? type, long? account_id, DateTimeOffset? from, DateTimeOffset? to,
        CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        if (from is not null && to is not null && from > to)
        {
            return Problems.Field("from", "from must not be later than to.");
        }

        var query = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrEmpty(type))
        {
            query = query.Where(e => e.Type == type);
        }

        if (account_id is not null)
        {
            query = query.Where(e => e.AccountId == account_id);
        }

        if (from is not null)
        {
            var f = from.Value.ToUniversalTime();
            query = query.Where(e => e.At >= f);
        }

        if (to is not null)
        {
            var t = to.Value.ToUniversalTime();
            query = query.Where(e => e.At < t);
        }

        var count = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(paging.Skip).Take(paging.Size)
            .Select(e => new AuditEventResponse(e.Id, e.At, e.Type, e.AccountId, e.ActorId, e.Dialect, e.ClientAddress, e.Detail))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.ToPage(request, count, rows));
    }
}
