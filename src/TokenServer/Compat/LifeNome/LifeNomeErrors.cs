using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Hosting;

namespace TokenServer.Compat.LifeNome;

/// <summary>
/// LifeNome's error bodies, spelled as Django REST framework and SimpleJWT spell them
/// (rest_framework/exceptions.py, rest_framework_simplejwt/exceptions.py and authentication.py).
/// </summary>
public static class LifeNomeErrors
{
    public const string TokenNotValid = "token_not_valid";
    public const string NoActiveAccount = "No active account found with the given credentials";
    public const string NotProvided = "Authentication credentials were not provided.";
    public const string InvalidOrExpired = "Token is invalid or expired";
    public const string NotValidForAnyType = "Given token not valid for any token type";
    public const string PermissionDenied = "You do not have permission to perform this action.";
    public const string FieldRequired = "This field is required.";

    /// <summary>SimpleJWT's views and JWTAuthentication answer 401 with <c>WWW-Authenticate: Bearer realm="api"</c>.</summary>
    public const string Challenge = "Bearer realm=\"api\"";

    /// <summary>Attach to any LifeNome route group (for example the samples list) with <c>.WithMetadata(LifeNomeErrors.AuthFailures)</c>.</summary>
    public static IAuthFailureWriter AuthFailures { get; } = new LifeNomeAuthFailureWriter();

    public static JsonHttpResult<LifeNomeDetail> BadLogin(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = Challenge;
        return TypedResults.Json(new LifeNomeDetail(NoActiveAccount), statusCode: StatusCodes.Status401Unauthorized);
    }

    public static JsonHttpResult<LifeNomeTokenError> InvalidToken(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = Challenge;
        return TypedResults.Json(new LifeNomeTokenError(InvalidOrExpired, TokenNotValid), statusCode: StatusCodes.Status401Unauthorized);
    }

    /// <summary>DRF's serializer errors: each missing field mapped to <c>["This field is required."]</c>.</summary>
    public static JsonHttpResult<Dictionary<string, string[]>> Required(params string[] fields) =>
        TypedResults.Json(fields.ToDictionary(f => f, _ => new[] { FieldRequired }, StringComparer.Ordinal), statusCode: StatusCodes.Status400BadRequest);

    /// <summary>DRF's ParseError ("JSON parse error - ...") and the 413 for an oversized body.</summary>
    public static JsonHttpResult<LifeNomeDetail> Unreadable(BodyError error, string message) =>
        TypedResults.Json(new LifeNomeDetail(error == BodyError.TooLarge ? message : $"JSON parse error - {message}"),
            statusCode: error == BodyError.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest);

    private sealed class LifeNomeAuthFailureWriter : IAuthFailureWriter
    {
        public Task WriteAsync(HttpContext context, AuthFailureKind kind)
        {
            IResult result = kind switch
            {
                AuthFailureKind.MissingCredentials => TypedResults.Json(new LifeNomeDetail(NotProvided), statusCode: StatusCodes.Status401Unauthorized),
                AuthFailureKind.InvalidToken => TypedResults.Json(
                    new LifeNomeInvalidToken(NotValidForAnyType, TokenNotValid, [new LifeNomeTokenMessage("AccessToken", "access", InvalidOrExpired)]),
                    statusCode: StatusCodes.Status401Unauthorized),
                AuthFailureKind.Forbidden => TypedResults.Json(new LifeNomeDetail(PermissionDenied), statusCode: StatusCodes.Status403Forbidden),
                // Django REST framework's Throttled and ServiceUnavailable messages.
                AuthFailureKind.RateLimited => TypedResults.Json(new LifeNomeDetail($"Request was throttled. Expected available in {context.Response.Headers.RetryAfter} seconds."), statusCode: StatusCodes.Status429TooManyRequests),
                AuthFailureKind.StoreUnavailable => TypedResults.Json(new LifeNomeDetail("Service temporarily unavailable, try again later."), statusCode: StatusCodes.Status503ServiceUnavailable),
                AuthFailureKind.Overloaded => TypedResults.Json(new LifeNomeDetail("Service temporarily unavailable, try again later."), statusCode: StatusCodes.Status503ServiceUnavailable),
                AuthFailureKind.AmbiguousToken => TypedResults.Json(new LifeNomeDetail("The request carries two different tokens. Send exactly one, in 'Authorization: Bearer <access>'."), statusCode: StatusCodes.Status400BadRequest),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
            if (kind is AuthFailureKind.MissingCredentials or AuthFailureKind.InvalidToken)
            {
                context.Response.Headers.WWWAuthenticate = Challenge;
            }

            return result.ExecuteAsync(context);
        }
    }
}
