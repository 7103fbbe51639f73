using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Users;

namespace TokenServer.PersonalAccessTokens;

/// <summary>A person's own personal access tokens (CONTRACTS.md "Personal access tokens").</summary>
public static class PersonalAccessTokenEndpoints
{
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
        HttpRequest request, PersonalAccessTokenIssuer issuer, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<CreatePersonalAccessTokenRequest>(request, cancellationToken);
        if (!body.Ok)
        {
            return body.Error == BodyError.Empty
                ? Problems.Field("name", "Send {\"name\": \"...\", \"scopes\": [\"read\"], \"expires_at\": \"2027-01-01T00:00:00Z\"} (expires_at is optional).")
                : AuthEndpoints.BodyProblem(body.Error, body.Message!);
        }

        var r = body.Value!;
        var accountId = (await Caller.OfAsync(request.HttpContext)).AccountId ?? 0;
        var result = await issuer.CreateAsync(accountId, r.Name, r.Scopes, r.ExpiresAt, cancellationToken);
        return result switch
        {
            { Created: { } created } => TypedResults.Created((string?)null, created),
            { Errors: { } errors } => Problems.Validation(errors),
            _ => Problems.Create(StatusCodes.Status403Forbidden, result.RefusalTitle!, result.RefusalDetail!),
        };
    }

    private static async Task<Ok<List<PersonalAccessTokenResponse>>> List(Caller caller, PersonalAccessTokenIssuer issuer, CancellationToken cancellationToken) =>
        TypedResults.Ok(caller.AccountId is { } accountId ? await issuer.ListAsync(accountId, cancellationToken) : []);

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(string id, Caller caller, PersonalAccessTokenIssuer issuer, CancellationToken cancellationToken) =>
        caller.AccountId is { } accountId && await issuer.RevokeAsync(accountId, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.Create(StatusCodes.Status404NotFound, "No such token",
                "You have no live personal access token with this id. GET /api/v1/auth/personal-access-tokens lists yours.");
}

public static class PersonalAccessTokenAuditEvents
{
    public const string Created = "personal_access_token.created";
    public const string Revoked = "personal_access_token.revoked";
}
