using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Hosting;
using TokenServer.Users;

namespace TokenServer.Compat.TetraScience;

public static class TetraScienceErrors
{
    public static IAuthFailureWriter AuthFailures { get; } = new TetraScienceAuthFailureWriter();

    public static JsonHttpResult<TetraScienceError> Create(int status, string message) =>
        TypedResults.Json(new TetraScienceError(status, ReasonPhrase(status), message), statusCode: status);

    /// <summary>One answer for unknown account, wrong password, locked, disabled and service users (ARCHITECTURE.md habit 6).</summary>
    public static JsonHttpResult<TetraScienceError> InvalidLogin() =>
        Create(StatusCodes.Status401Unauthorized, "Invalid email or password.");

    /// <summary>The seed: with SSO on, "you must get your JSON Web Token (JWT) from your TDP account page".</summary>
    public static JsonHttpResult<TetraScienceError> SsoRequired(string message) =>
        Create(StatusCodes.Status403Forbidden, message);

    /// <summary>The <c>x-org-slug</c> refusals (<see cref="Caller.OrganizationAsync"/>) in this dialect's shape.</summary>
    public static JsonHttpResult<TetraScienceError> OrganizationRefused(OrganizationRefusal refusal) => refusal == OrganizationRefusal.NotAMember
        ? Create(StatusCodes.Status403Forbidden, $"You are not a member of the organization named in '{Caller.OrganizationHeader}'.")
        : Create(StatusCodes.Status400BadRequest, $"Send your organization's slug in the '{Caller.OrganizationHeader}' header.");

    public static JsonHttpResult<TetraScienceError> Unreadable(BodyError error, string message) =>
        Create(error == BodyError.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, message);

    private static string ReasonPhrase(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "Bad Request",
        StatusCodes.Status401Unauthorized => "Unauthorized",
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status413PayloadTooLarge => "Request Entity Too Large",
        StatusCodes.Status429TooManyRequests => "Too Many Requests",
        StatusCodes.Status503ServiceUnavailable => "Service Unavailable",
        _ => "Error",
    };

    private sealed class TetraScienceAuthFailureWriter : IAuthFailureWriter
    {
        public Task WriteAsync(HttpContext context, AuthFailureKind kind) => (kind switch
        {
            AuthFailureKind.MissingCredentials => Create(StatusCodes.Status401Unauthorized, "Missing token: send 'ts-auth-token: <token>' or 'Authorization: Bearer <token>'."),
            AuthFailureKind.InvalidToken => Create(StatusCodes.Status401Unauthorized, "The token is invalid, expired or revoked. Log in again at POST /login."),
            AuthFailureKind.Forbidden => Create(StatusCodes.Status403Forbidden, "Your role does not allow this."),
            AuthFailureKind.RateLimited => Create(StatusCodes.Status429TooManyRequests, "Too many login attempts from your address. Retry after the number of seconds in Retry-After."),
            AuthFailureKind.StoreUnavailable => Create(StatusCodes.Status503ServiceUnavailable, "The data store is unreachable or busy for a moment. Retry after the number of seconds in Retry-After."),
            AuthFailureKind.Overloaded => Create(StatusCodes.Status503ServiceUnavailable, "The server is busy. Retry after the number of seconds in Retry-After."),
            AuthFailureKind.AmbiguousToken => Create(StatusCodes.Status400BadRequest, "The request carries two different tokens. Send exactly one."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        }).ExecuteAsync(context);
    }
}
