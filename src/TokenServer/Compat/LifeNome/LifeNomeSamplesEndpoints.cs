using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
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
    public const string Prefix = "/platform-api/api/core-api";

    public static IEndpointRouteBuilder MapLifeNomeSamples(this IEndpointRouteBuilder app)
    {
        // Routing already treats the trailing slash as optional: /samples and /samples/ both match.
        app.MapGet($"{Prefix}/samples", ListSamples)
            .RequireAuthorization()
            .WithMetadata(LifeNomeSamplesAuthFailureWriter.Instance)
            .WithTags("LifeNome")
            .Produces<LifeNomeInvalidToken>(StatusCodes.Status401Unauthorized)
            .WithSummary("List samples (LifeNome; token required)")
            .WithDescription("Django REST framework page {count, next, previous, results} of the samples of your organizations. ?page=&page_size=.");
        return app;
    }

    private static async Task<Results<Ok<Page<SampleResponse>>, JsonHttpResult<LifeNomeDetail>>> ListSamples(
        HttpRequest request, ClaimsPrincipal user, TokenServerDb db, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            // DRF answers a bad page number with 404 {"detail": "Invalid page."}.
            return TypedResults.Json(new LifeNomeDetail("Invalid page."), statusCode: StatusCodes.Status404NotFound);
        }

        var callerId = user.AccountId();
        var memberships = db.Memberships;
        var query = db.Set<Sample>().AsNoTracking()
            .Where(s => memberships.Any(m => m.AccountId == callerId && m.OrganizationId == s.OrganizationId));
        return TypedResults.Ok(await ResourceQueries.PageAsync(query, ResourceQueries.ToSample, paging, request, cancellationToken));
    }
}

public sealed record LifeNomeDetail([property: JsonPropertyName("detail")] string Detail);

public sealed record LifeNomeTokenMessage(
    [property: JsonPropertyName("token_class")] string TokenClass,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("message")] string Message);

public sealed record LifeNomeInvalidToken(
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("messages")] IReadOnlyList<LifeNomeTokenMessage> Messages);

/// <summary>
/// Minimal stand-in for the LifeNome dialect's shared failure writer (built in parallel in
/// another branch); the lead replaces it at merge. Bodies are Django REST framework SimpleJWT's
/// (rest_framework_simplejwt/authentication.py, exceptions.py).
/// </summary>
internal sealed class LifeNomeSamplesAuthFailureWriter : IAuthFailureWriter
{
    public static readonly LifeNomeSamplesAuthFailureWriter Instance = new();

    public Task WriteAsync(HttpContext context, AuthFailureKind kind)
    {
        object body = kind switch
        {
            AuthFailureKind.MissingCredentials => new LifeNomeDetail("Authentication credentials were not provided."),
            AuthFailureKind.InvalidToken => new LifeNomeInvalidToken("Given token not valid for any token type", "token_not_valid",
                [new LifeNomeTokenMessage("AccessToken", "access", "Token is invalid or expired")]),
            AuthFailureKind.Forbidden => new LifeNomeDetail("You do not have permission to perform this action."),
            _ => new LifeNomeDetail("Send exactly one access token."),
        };
        var status = kind switch
        {
            AuthFailureKind.MissingCredentials or AuthFailureKind.InvalidToken => StatusCodes.Status401Unauthorized,
            AuthFailureKind.Forbidden => StatusCodes.Status403Forbidden,
            _ => StatusCodes.Status400BadRequest,
        };
        return TypedResults.Json(body, statusCode: status).ExecuteAsync(context);
    }
}
