using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Resources;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Compat.LifeNome;

/// <summary>
/// The LifeNome "List Samples" route (seeds/000: GET /platform-api/api/core-api/samples/ with a
/// bearer token; CONTRACTS.md LifeNome table). It lists the samples of the caller's
/// organizations, so a new account sees the seed's empty page; docs/resources.md says why.
/// </summary>
public static class LifeNomeSamplesEndpoints
{
    /// <summary>Mapped on the LifeNome group, so it shares that dialect's error shapes and its on/off switch.</summary>
    public static RouteGroupBuilder MapLifeNomeSamples(this RouteGroupBuilder group)
    {
        // Routing already treats the trailing slash as optional: /samples and /samples/ both match.
        group.MapGet("/samples/", ListSamples)
            .RequireAuthorization()
            .Produces<LifeNomeInvalidToken>(StatusCodes.Status401Unauthorized)
            .WithSummary("List samples (LifeNome; token required)")
            .WithDescription("Django REST framework page {count, next, previous, results} of the samples of your organizations. ?page=&page_size=.");
        return group;
    }

    private static async Task<Results<Ok<Page<SampleResponse>>, JsonHttpResult<LifeNomeDetail>>> ListSamples(
        HttpRequest request, Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            // DRF answers a bad page number with 404 {"detail": "Invalid page."}.
            return TypedResults.Json(new LifeNomeDetail("Invalid page."), statusCode: StatusCodes.Status404NotFound);
        }

        var callerId = caller.AccountId;
        var memberships = db.Memberships;
        var query = db.Set<Sample>().AsNoTracking()
            .Where(s => memberships.Any(m => m.AccountId == callerId && m.OrganizationId == s.OrganizationId));
        return TypedResults.Ok(await ResourceQueries.PageAsync(query, ResourceQueries.ToSample, paging, request, cancellationToken));
    }
}
