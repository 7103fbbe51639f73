using Microsoft.AspNetCore.Http.HttpResults;
using TokenServer.Auth;
using TokenServer.Hosting;

namespace TokenServer.Oidc;

/// <summary>The device authorization endpoint (RFC 8628 §3.1-3.2).</summary>
public static class DeviceEndpoints
{
    public const string DeviceAuthorizationPath = "/connect/device_authorization";

    public static IEndpointRouteBuilder MapDeviceAuthorization(this IEndpointRouteBuilder app)
    {
        app.MapPost(DeviceAuthorizationPath, Start).DisableAntiforgery().RequireCredentialRateLimit().WithNoStore()
            .WithTags("OpenID Connect").WithMetadata(OAuthAuthFailureWriter.Instance)
            .WithSummary("Start the device flow (RFC 8628): form client_id (and client_secret) and scope; answers the user code to show");
        return app;
    }

    private static async Task<Results<Ok<DeviceAuthorizationResponse>, JsonHttpResult<OAuthErrorResponse>>> Start(
        HttpRequest request, DeviceFlow devices, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return OAuthEndpoints.Error(OAuthErrors.InvalidRequest, "Send client_id and scope as application/x-www-form-urlencoded form fields (RFC 8628 §3.1).");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var (client, failure) = await OAuthEndpoints.RegisteredClientAsync(request, form, cancellationToken);
        if (failure is not null)
        {
            return failure;
        }

        if (client is null)
        {
            return OAuthEndpoints.ClientFailed(request);
        }

        if (!client.GrantTypes.Contains(OidcGrantTypes.DeviceCode))
        {
            return OAuthEndpoints.Error("unauthorized_client", "This client is not registered for the urn:ietf:params:oauth:grant-type:device_code grant.");
        }

        var scopes = OidcScopes.Parse(form["scope"].ToString());
        if (scopes.Count == 0)
        {
            return OAuthEndpoints.Error("invalid_scope", "Ask for at least one scope, for example scope=openid.");
        }

        if (scopes.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } unknown)
        {
            return OAuthEndpoints.Error("invalid_scope", $"The scope '{unknown}' is not registered for this client.");
        }

        return TypedResults.Ok(await devices.StartAsync(client, string.Join(' ', scopes), cancellationToken));
    }
}
