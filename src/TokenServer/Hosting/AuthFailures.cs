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
}

/// <summary>
/// Writes an authentication or authorization failure in a front door's own error shape. A
/// route group attaches its writer as endpoint metadata; routes without one get problem details.
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
}

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
            // The authentication middleware records only successful results in
            // IAuthenticateResultFeature; a failed one (bad or expired token) is read back from
            // the default scheme, whose handler caches it for the request.
            var result = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult ?? await context.AuthenticateAsync();
            await AuthFailures.WriteAsync(context, result?.Failure is not null ? AuthFailureKind.InvalidToken : AuthFailureKind.MissingCredentials);
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
