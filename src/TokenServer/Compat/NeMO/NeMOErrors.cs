using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Hosting;

namespace TokenServer.Compat.NeMO;

/// <summary>NeMO answers every failure with a bare <c>{"message": "..."}</c> (seeds/003).</summary>
public static class NeMOErrors
{
    public const string LoginFailed = "Login failed.";
    public const string SuccessfulLogin = "Successful login.";

    /// <summary>For NeMO routes that need a token; attach with <c>.WithMetadata(NeMOErrors.AuthFailures)</c>.</summary>
    public static IAuthFailureWriter AuthFailures { get; } = new NeMOAuthFailureWriter();

    /// <summary>
    /// The seed shows exactly <c>{"message":"Login failed."}</c> for an authentication failure; a
    /// missing field or an unreadable body gets the same answer, so no failure says more than another.
    /// </summary>
    public static JsonHttpResult<NeMOMessage> Failed() => TypedResults.Json(new NeMOMessage(LoginFailed), statusCode: StatusCodes.Status401Unauthorized);

    private sealed class NeMOAuthFailureWriter : IAuthFailureWriter
    {
        public Task WriteAsync(HttpContext context, AuthFailureKind kind) => (kind switch
        {
            AuthFailureKind.MissingCredentials => TypedResults.Json(new NeMOMessage("Authentication required. Get a token from POST /v1/login and send 'Authorization: Bearer <jwt>'."), statusCode: StatusCodes.Status401Unauthorized),
            AuthFailureKind.InvalidToken => TypedResults.Json(new NeMOMessage("The token is invalid or expired. Get a new one from POST /v1/login."), statusCode: StatusCodes.Status401Unauthorized),
            AuthFailureKind.Forbidden => TypedResults.Json(new NeMOMessage("Your account may not do this."), statusCode: StatusCodes.Status403Forbidden),
            AuthFailureKind.RateLimited => TypedResults.Json(new NeMOMessage("Too many login attempts. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status429TooManyRequests),
            AuthFailureKind.StoreUnavailable => TypedResults.Json(new NeMOMessage("The data store is unreachable or busy for a moment. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status503ServiceUnavailable),
            AuthFailureKind.Overloaded => TypedResults.Json(new NeMOMessage("The server is busy. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status503ServiceUnavailable),
            AuthFailureKind.AmbiguousToken => TypedResults.Json(new NeMOMessage("The request carries two different tokens. Send exactly one."), statusCode: StatusCodes.Status400BadRequest),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        }).ExecuteAsync(context);
    }
}
