using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace TokenServer.Hosting;

public enum AuthFailureKind
{
    /// <summary>No token at all: 401.</summary>
    MissingCredentials,

    /// <summary>A token that is malformed, forged, expired or revoked: 401.</summary>
    InvalidToken,

    /// <summary>A valid token whose account may not do this: 403.</summary>
    Forbidden,

    /// <summary>Two different tokens in one request (CONTRACTS.md "Everywhere"): 400.</summary>
    AmbiguousToken,

    /// <summary>
    /// Too many credential attempts from this client address (docs/security.md): 429. The
    /// <c>Retry-After</c> header is already set when a writer sees this kind.
    /// </summary>
    RateLimited,

    /// <summary>
    /// The password-hashing queue is full (docs/security.md): 503, answered at once. The
    /// <c>Retry-After</c> header is already set when a writer sees this kind.
    /// </summary>
    Overloaded,

    /// <summary>
    /// The store cannot be reached, or a SQLite writer could not get the file in time: 503,
    /// answered at once. The <c>Retry-After</c> header is already set when a writer sees this kind.
    /// </summary>
    StoreUnavailable,
}

/// <summary>
/// Writes an authentication or authorization failure in a front door's own error shape. A
/// route group attaches its writer as endpoint metadata; routes without one get problem details.
/// A writer sets the status code itself: 401, 401, 403, 400, 429, 503 and 503 for the kinds in order.
/// </summary>
public interface IAuthFailureWriter
{
    Task WriteAsync(HttpContext context, AuthFailureKind kind);
}

public static class AuthFailures
{
    public static Task WriteAsync(HttpContext context, AuthFailureKind kind)
    {
        if (kind is AuthFailureKind.MissingCredentials or AuthFailureKind.InvalidToken)
        {
            // RFC 6750 §3: a 401 names the scheme, and says invalid_token when one was presented.
            context.Response.Headers.WWWAuthenticate = kind == AuthFailureKind.InvalidToken
                ? "Bearer error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\""
                : "Bearer";
        }

        var writer = context.GetEndpoint()?.Metadata.GetMetadata<IAuthFailureWriter>() ?? ProblemAuthFailureWriter.Instance;
        return writer.WriteAsync(context, kind);
    }

    /// <summary>Why an <see cref="AuthFailureKind.Overloaded"/> request was refused, when it was not a full queue; writers whose wire has room for a message say it.</summary>
    public static string? OverloadedReason(HttpContext context) => context.Features.Get<UnavailableReason>()?.Text;

    /// <summary>Sets <c>Retry-After</c> (RFC 9110 §10.2.3, in whole seconds, at least 1) and writes the failure.</summary>
    public static Task WriteAsync(HttpContext context, AuthFailureKind kind, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteAsync(context, kind);
    }
}

/// <summary>The reason a <see cref="ServerBusyException"/> carried, kept for the failure writer.</summary>
internal sealed record UnavailableReason(string Text);

/// <summary>The native API's failures, as RFC 9457 problem details.</summary>
internal sealed class ProblemAuthFailureWriter : IAuthFailureWriter
{
    public static readonly ProblemAuthFailureWriter Instance = new();

    public Task WriteAsync(HttpContext context, AuthFailureKind kind) => (kind switch
    {
        AuthFailureKind.MissingCredentials => Problems.Create(StatusCodes.Status401Unauthorized, "Authentication required",
            "Send an access token in the Authorization header: 'Authorization: Bearer <access_token>'. Get one from POST /api/v1/auth/login."),
        AuthFailureKind.InvalidToken => Problems.Create(StatusCodes.Status401Unauthorized, "Invalid token",
            "The access token is malformed, expired or revoked. Get a new one from POST /api/v1/auth/refresh or POST /api/v1/auth/login."),
        AuthFailureKind.Forbidden => Problems.Create(StatusCodes.Status403Forbidden, "Forbidden",
            "Your account's role does not allow this operation. Ask an administrator if you need it."),
        AuthFailureKind.RateLimited => Problems.Create(StatusCodes.Status429TooManyRequests, "Too many attempts",
            "Too many credential requests from your address. Wait the number of seconds in the Retry-After header and try again."),
        AuthFailureKind.StoreUnavailable => Problems.Create(StatusCodes.Status503ServiceUnavailable, "Store unavailable",
            "The data store is unreachable or busy for a moment. Retry after the number of seconds in Retry-After."),
        AuthFailureKind.Overloaded => Problems.Create(StatusCodes.Status503ServiceUnavailable, "Server busy",
            AuthFailures.OverloadedReason(context) ?? "The server is checking too many passwords at once. Wait the number of seconds in the Retry-After header and try again."),
        _ => Problems.Create(StatusCodes.Status400BadRequest, "Ambiguous credentials",
            "The request carries two different tokens (for example in Authorization and ts-auth-token). Send exactly one."),
    }).ExecuteAsync(context);
}

/// <summary>Routes every challenge and forbid through <see cref="AuthFailures"/>, so each front door answers in its own shape.</summary>
internal sealed class AuthFailureResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler fallback = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            // The authentication middleware keeps only a successful result in the request's
            // features, so a failed one is asked for again; the handler caches it per request,
            // so the token is not validated twice.
            var result = await context.AuthenticateAsync();
            await AuthFailures.WriteAsync(context, result.Failure is not null ? AuthFailureKind.InvalidToken : AuthFailureKind.MissingCredentials);
            return;
        }

        if (authorizeResult.Forbidden)
        {
            await AuthFailures.WriteAsync(context, AuthFailureKind.Forbidden);
            return;
        }

        await fallback.HandleAsync(next, context, policy, authorizeResult);
    }
}
