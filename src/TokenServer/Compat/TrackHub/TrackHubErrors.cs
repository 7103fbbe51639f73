using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Hosting;

namespace TokenServer.Compat.TrackHub;

public static class TrackHubErrors
{
    public const string LoggedOut = "Successfully logged out";

    /// <summary>RFC 7617 §2: a 401 to a Basic login names the scheme and realm.</summary>
    public const string BasicChallenge = "Basic realm=\"TrackHub Registry\", charset=\"UTF-8\"";

    public static IAuthFailureWriter AuthFailures { get; } = new TrackHubAuthFailureWriter();

    /// <summary>One answer for unknown user, wrong password, locked and disabled (ARCHITECTURE.md habit 6).</summary>
    public static JsonHttpResult<TrackHubError> LoginFailed(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = BasicChallenge;
        return TypedResults.Json(new TrackHubError("Invalid username or password. Send them as HTTP Basic credentials or as the form fields username and password."), statusCode: StatusCodes.Status401Unauthorized);
    }

    public static JsonHttpResult<TrackHubError> Unreadable(BodyError error, string message) =>
        TypedResults.Json(new TrackHubError(message), statusCode: error == BodyError.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest);

    private sealed class TrackHubAuthFailureWriter : IAuthFailureWriter
    {
        public Task WriteAsync(HttpContext context, AuthFailureKind kind) => (kind switch
        {
            AuthFailureKind.MissingCredentials => TypedResults.Json(new TrackHubError("You need to log in first: send 'Authorization: Token <auth_token>' or the User and Auth-Token headers."), statusCode: StatusCodes.Status401Unauthorized),
            AuthFailureKind.InvalidToken => TypedResults.Json(new TrackHubError("The auth token is invalid, expired or logged out, or the User header does not match it. Log in again at /api/login."), statusCode: StatusCodes.Status401Unauthorized),
            AuthFailureKind.Forbidden => TypedResults.Json(new TrackHubError("Your account may not do this."), statusCode: StatusCodes.Status403Forbidden),
            AuthFailureKind.RateLimited => TypedResults.Json(new TrackHubError("Too many login attempts from your address. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status429TooManyRequests),
            AuthFailureKind.StoreUnavailable => TypedResults.Json(new TrackHubError("The data store is unreachable or busy for a moment. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status503ServiceUnavailable),
            AuthFailureKind.Overloaded => TypedResults.Json(new TrackHubError("The server is busy. Retry after the number of seconds in Retry-After."), statusCode: StatusCodes.Status503ServiceUnavailable),
            AuthFailureKind.AmbiguousToken => TypedResults.Json(new TrackHubError("The request carries two different tokens. Send exactly one."), statusCode: StatusCodes.Status400BadRequest),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        }).ExecuteAsync(context);
    }
}
