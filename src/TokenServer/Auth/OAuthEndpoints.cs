using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.Oidc;
using TokenServer.Mfa;
using TokenServer.Organizations;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Auth;

/// <summary>The OAuth 2.0 endpoints: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662).</summary>
public static class OAuthEndpoints
{
    public const string GrantPassword = "password";
    public const string GrantRefreshToken = "refresh_token";
    public const string GrantClientCredentials = "client_credentials";

    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("OAuth 2.0").WithNoStore().WithMetadata(OAuthAuthFailureWriter.Instance);
        group.MapPost("/token", Token).DisableAntiforgery().RequireCredentialRateLimit().RequireCors(BrowserAppCors.Policy)
            .DocumentsBody<TokenRequestForm>("application/x-www-form-urlencoded")
            .WithSummary("OAuth 2.0 token endpoint (RFC 6749): grant_type authorization_code (with PKCE), password, refresh_token or client_credentials");
        // Revocation and introspection authenticate their caller themselves: a bearer token or a
        // client's id and secret (RFC 7009 §2.1, RFC 7662 §2.1, RFC 6749 §2.3.1), see AuthenticateCallerAsync.
        group.MapPost("/revoke", Revoke).DisableAntiforgery().RequireCors(BrowserAppCors.Policy)
            .DocumentsBody<TokenForm>("application/x-www-form-urlencoded")
            .WithSummary("Revoke an access or refresh token (RFC 7009); answers 200 whatever the token was");
        group.MapPost("/introspect", Introspect).DisableAntiforgery()
            .DocumentsBody<TokenForm>("application/x-www-form-urlencoded")
            .WithSummary("Describe a token (RFC 7662); for an admin's bearer token or a service user's client id and secret");
        return app;
    }

    internal static JsonHttpResult<OAuthErrorResponse> Error(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Json(new OAuthErrorResponse(error, description), statusCode: status);

    private static async Task<Results<Ok<OAuthTokenResponse>, JsonHttpResult<OAuthErrorResponse>, JsonHttpResult<MfaRequiredResponse>>> Token(
        HttpRequest request, CredentialChecker credentials, MultiFactor mfa, ServiceUserCredentials clients, SessionTokens sessions, AuditLog audit, TokenServerDb db, IOptions<TokenOptions> options, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return Error(OAuthErrors.InvalidRequest, "Send the parameters as application/x-www-form-urlencoded form fields (RFC 6749 §4.3.2).");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var lifetime = options.Value.AccessTokenLifetime;
        switch (form["grant_type"].ToString())
        {
            case GrantPassword:
                var username = form["username"].ToString();
                var password = form["password"].ToString();
                if (username.Length == 0 || password.Length == 0)
                {
                    return Error(OAuthErrors.InvalidRequest, "The password grant needs the username and password parameters.");
                }

                var result = await credentials.CheckAsync(username, password, AuthEndpoints.Dialect, cancellationToken);
                if (result.Failure == CredentialFailure.SsoRequired)
                {
                    // RFC 6749 §5.2: the grant is refused for this resource owner; the description says why.
                    return Error(OAuthErrors.InvalidGrant, result.SsoMessage);
                }

                var clientId = form["client_id"].ToString() is { Length: > 0 and <= 100 } id ? id : AuthEndpoints.ClientId;
                if (result.Failure == CredentialFailure.MfaRequired)
                {
                    return MfaEndpoints.Required(await mfa.ChallengeAsync(result.Account!.Id, MfaChallengeKinds.OAuth, clientId, cancellationToken));
                }

                if (!result.Succeeded)
                {
                    return Error(OAuthErrors.InvalidGrant, "The username and password do not match an active account.");
                }

                var issued = await sessions.StartAsync(result.Account!,
                    new SessionRequest(AuthEndpoints.Dialect, clientId, lifetime, IssueRefreshToken: true, AuthenticationMethods: MultiFactor.PasswordOnly), cancellationToken);
                return TypedResults.Ok(new OAuthTokenResponse(issued.Access.Token, "Bearer", issued.Access.ExpiresInSeconds, issued.RefreshToken));

            case GrantRefreshToken:
                var refresh = form["refresh_token"].ToString();
                if (refresh.Length == 0)
                {
                    return Error(OAuthErrors.InvalidRequest, "The refresh_token grant needs the refresh_token parameter.");
                }

                // RFC 6749 §6: a registered client authenticates and its refresh token is bound to it;
                // a client of the password grant names itself with client_id, as at that grant.
                var registered = await RegisteredClientAsync(request, form, cancellationToken);
                if (registered.Failure is { } clientFailure)
                {
                    return clientFailure;
                }

                if (registered.Client?.AccessTokenLifetimeSeconds is { } clientLifetime)
                {
                    lifetime = TimeSpan.FromSeconds(clientLifetime);
                }

                var (refreshDialect, refreshClient) = registered.Client is { } client
                    ? (CodeGrant.Dialect, client.ClientId)
                    : (AuthEndpoints.Dialect, form["client_id"].ToString() is { Length: > 0 } named ? named : AuthEndpoints.ClientId);
                var outcome = await sessions.RefreshAsync(refresh, refreshDialect, refreshClient, lifetime, cancellationToken);
                return outcome.Tokens is { } tokens
                    ? TypedResults.Ok(new OAuthTokenResponse(tokens.Access.Token, "Bearer", tokens.Access.ExpiresInSeconds, tokens.RefreshToken))
                    : Error(OAuthErrors.InvalidGrant, "The refresh token is unknown, expired, revoked or already used. Log in again.");

            case GrantClientCredentials:
                return await ClientCredentialsAsync(request, form, clients, sessions, audit, db, lifetime, cancellationToken);

            case OidcGrantTypes.AuthorizationCode:
                return await RegisteredClientGrantAsync(request, form, (client, services) =>
                    services.GetRequiredService<CodeGrant>().RedeemAsync(client, form["code"].ToString(), form["redirect_uri"].ToString(), form["code_verifier"].ToString(), cancellationToken), cancellationToken);

            case OidcGrantTypes.DeviceCode:
                return await RegisteredClientGrantAsync(request, form, (client, services) =>
                    services.GetRequiredService<DeviceFlow>().PollAsync(client, form["device_code"].ToString(), cancellationToken), cancellationToken);

            case "":
                return Error(OAuthErrors.InvalidRequest, "The grant_type parameter is required: authorization_code, password, refresh_token, client_credentials or urn:ietf:params:oauth:grant-type:device_code.");

            default:
                return Error(OAuthErrors.UnsupportedGrantType, "Supported grant types: authorization_code, password, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code.");
        }
    }

    /// <summary>
    /// RFC 6749 §4.4: a service user's client id and secret, by HTTP Basic or form fields (§2.3.1;
    /// both at once is refused, since a client must use one method). No refresh token (§4.4.3).
    /// Every failed client authentication is 401 invalid_client with a Basic challenge (§5.2).
    /// </summary>
    private static async Task<Results<Ok<OAuthTokenResponse>, JsonHttpResult<OAuthErrorResponse>, JsonHttpResult<MfaRequiredResponse>>> ClientCredentialsAsync(
        HttpRequest request, IFormCollection form, ServiceUserCredentials clients, SessionTokens sessions, AuditLog audit, TokenServerDb db, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var (credentials, bothWays) = ReadClientCredentials(request, form);
        if (bothWays is not null)
        {
            return bothWays;
        }

        var (clientId, secret, _) = credentials;
        var account = await clients.CheckAsync(clientId, secret, cancellationToken);
        if (account is null)
        {
            audit.Record(AuditEventTypes.LoginFailed, null, "client_credentials: unknown client or wrong secret", dialect: AuthEndpoints.Dialect);
            await db.SaveChangesAsync(cancellationToken);
            request.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"tokenserver\", charset=\"UTF-8\"";
            return Error(OAuthErrors.InvalidClient, "Client authentication failed: send a service user's client_id and client_secret by HTTP Basic or as form fields.", StatusCodes.Status401Unauthorized);
        }

        audit.Record(AuditEventTypes.LoginSucceeded, account.Id, "client_credentials", dialect: AuthEndpoints.Dialect);
        var issued = await sessions.StartAsync(account, new SessionRequest(AuthEndpoints.Dialect, clientId!, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime), cancellationToken);
        return TypedResults.Ok(new OAuthTokenResponse(issued.Access.Token, "Bearer", issued.Access.ExpiresInSeconds, null));
    }

    /// <summary>
    /// A grant only registered clients use: an authorization code (RFC 6749 §4.1.3, OpenID Connect
    /// Core 1.0 §3.1.3) or a device code (RFC 8628 §3.4). The client authenticates first.
    /// </summary>
    private static async Task<Results<Ok<OAuthTokenResponse>, JsonHttpResult<OAuthErrorResponse>, JsonHttpResult<MfaRequiredResponse>>> RegisteredClientGrantAsync(
        HttpRequest request, IFormCollection form, Func<OidcClient, IServiceProvider, Task<GrantResult>> grant, CancellationToken cancellationToken)
    {
        var registered = await RegisteredClientAsync(request, form, cancellationToken);
        if (registered.Failure is { } failure)
        {
            return failure;
        }

        if (registered.Client is not { } client)
        {
            return ReadClientCredentials(request, form).Credentials is { ByBasic: false, ClientId: null or "" }
                ? Error(OAuthErrors.InvalidRequest, "This grant needs the client_id of a registered client (RFC 6749 §4.1.3), or HTTP Basic client authentication.")
                : ClientFailed(request);
        }

        var result = await grant(client, request.HttpContext.RequestServices);
        if (result.Error is { } error)
        {
            return Error(error.Error, error.Description, error.Status);
        }

        var tokens = result.Tokens!;
        return TypedResults.Ok(new OAuthTokenResponse(tokens.Access.Token, "Bearer", tokens.Access.ExpiresInSeconds, tokens.RefreshToken, result.IdToken, result.Scope));
    }

    /// <summary>
    /// The registered client named by HTTP Basic or the client_id form field, authenticated
    /// (RFC 6749 §2.3.1; a public client sends no secret). No client named: neither client nor failure.
    /// </summary>
    internal static async Task<(OidcClient? Client, JsonHttpResult<OAuthErrorResponse>? Failure)> RegisteredClientAsync(
        HttpRequest request, IFormCollection form, CancellationToken cancellationToken)
    {
        var (credentials, bothWays) = ReadClientCredentials(request, form);
        if (bothWays is not null)
        {
            return (null, bothWays);
        }

        var (clientId, secret, _) = credentials;
        if (string.IsNullOrEmpty(clientId))
        {
            return (null, null);
        }

        var registry = request.HttpContext.RequestServices.GetRequiredService<ClientRegistry>();
        if (await registry.FindAsync(clientId, cancellationToken) is null)
        {
            // Not a registered client: the password grant's free-form client_id, as before.
            return (null, null);
        }

        var client = await registry.AuthenticateAsync(clientId, secret, cancellationToken);
        return client is null ? (null, ClientFailed(request)) : (client, null);
    }

    internal static JsonHttpResult<OAuthErrorResponse> ClientFailed(HttpRequest request)
    {
        request.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"tokenserver\", charset=\"UTF-8\"";
        return Error(OAuthErrors.InvalidClient, "Client authentication failed: a registered client sends its client_id (and a confidential client its client_secret) by HTTP Basic or as form fields.", StatusCodes.Status401Unauthorized);
    }

    /// <summary>A client's id and secret as presented: by HTTP Basic, or by the client_id and client_secret form fields.</summary>
    private sealed record ClientCredentials(string? ClientId, string? Secret, bool ByBasic);

    /// <summary>
    /// RFC 6749 §2.3.1: the client authenticates by HTTP Basic or by form fields, never both (a
    /// Basic header with a form client_secret is 400 invalid_request); a form client_id beside
    /// Basic is allowed, and Basic wins. The one reading of client credentials for every route.
    /// </summary>
    private static (ClientCredentials Credentials, JsonHttpResult<OAuthErrorResponse>? BothWays) ReadClientCredentials(HttpRequest request, IFormCollection form)
    {
        var basic = ReadBasicClient(request);
        var formSecret = form["client_secret"].ToString();
        if (basic is { } b)
        {
            return (new ClientCredentials(b.ClientId, b.Secret, ByBasic: true), formSecret.Length > 0 ? Error(OAuthErrors.InvalidRequest, "Authenticate the client one way only: HTTP Basic or the client_id and client_secret form fields (RFC 6749 §2.3).") : null);
        }

        return (new ClientCredentials(form["client_id"].ToString(), formSecret, ByBasic: false), null);
    }

    /// <summary>RFC 6749 §2.3.1: Basic credentials whose id and secret are form-urlencoded before base64.</summary>
    private static (string? ClientId, string? Secret)? ReadBasicClient(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is not { Length: > 0 and <= 1024 } encoded)
        {
            return null;
        }

        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length))
        {
            return (null, null);
        }

        var text = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (null, null) : (WebUtility.UrlDecode(text[..colon]), WebUtility.UrlDecode(text[(colon + 1)..]));
    }

    /// <summary>
    /// The caller of revocation or introspection: a client authenticated as RFC 6749 §2.3.1 says
    /// (a service user's client id and secret, by HTTP Basic or form fields, one way only), or the
    /// account of a bearer token. A failure is the §5.2 answer to send.
    /// </summary>
    private static async Task<(OAuthCaller? Caller, JsonHttpResult<OAuthErrorResponse>? Failure)> AuthenticateCallerAsync(
        HttpRequest request, IFormCollection form, Caller caller, ServiceUserCredentials clients, CancellationToken cancellationToken)
    {
        var (credentials, bothWays) = ReadClientCredentials(request, form);
        if (bothWays is not null)
        {
            return (null, bothWays);
        }

        if (credentials.ByBasic || !string.IsNullOrEmpty(credentials.Secret))
        {
            var (clientId, secret, _) = credentials;
            if (await clients.CheckAsync(clientId, secret, cancellationToken) is { } client)
            {
                return (new OAuthCaller(client.Id, IsAdmin: false, clientId), null);
            }

            request.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"tokenserver\", charset=\"UTF-8\"";
            return (null, Error(OAuthErrors.InvalidClient, "Client authentication failed: send a service user's client_id and client_secret by HTTP Basic or as form fields.", StatusCodes.Status401Unauthorized));
        }

        // The live caller (Users/Caller.cs): admin is the store's role now, not the token's claim.
        if (caller.AccountId is { } accountId)
        {
            return (new OAuthCaller(accountId, caller.IsAdmin, null), null);
        }

        // RFC 6750 §3: a token was presented but did not validate, or none was.
        var presented = (await request.HttpContext.AuthenticateAsync()).Failure is not null;
        request.HttpContext.Response.Headers.WWWAuthenticate = presented ? "Bearer error=\"invalid_token\"" : "Bearer, Basic realm=\"tokenserver\"";
        return (null, presented
            ? Error("invalid_token", "The access token is malformed, expired or revoked.", StatusCodes.Status401Unauthorized)
            : Error(OAuthErrors.InvalidClient, "Authenticate with 'Authorization: Bearer <access_token>' or with a service user's client_id and client_secret (HTTP Basic or form fields).", StatusCodes.Status401Unauthorized));
    }

    private sealed record OAuthCaller(long AccountId, bool IsAdmin, string? ClientId);

    /// <summary>
    /// RFC 7009. A refresh token ends its whole session (§2.1: access tokens of the same grant
    /// go too); an access token is revoked by its jti. A caller may revoke only its own tokens,
    /// an admin anyone's. An unknown, invalid or foreign token still answers 200 (§2.2), so the
    /// endpoint reveals nothing about tokens it is shown.
    /// </summary>
    private static async Task<Results<Ok, JsonHttpResult<OAuthErrorResponse>>> Revoke(
        HttpRequest request, Caller caller, ServiceUserCredentials clients, SessionTokens sessions, AccessTokenInspector inspector, AuditLog audit, TokenServerDb db, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return Error(OAuthErrors.InvalidRequest, "Send the token as an application/x-www-form-urlencoded form field named token.");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var token = form["token"].ToString();
        if (token.Length == 0)
        {
            return Error(OAuthErrors.InvalidRequest, "The token parameter is required.");
        }

        var (authenticated, failure) = await AuthenticateCallerAsync(request, form, caller, clients, cancellationToken);
        if (authenticated is null)
        {
            return failure!;
        }

        var (callerId, isAdmin) = (authenticated.AccountId, authenticated.IsAdmin);
        if (OpaqueTokens.LooksValid(token))
        {
            if (await sessions.FindRefreshTokenSessionAsync(token, cancellationToken) is { } owner && (owner.AccountId == callerId || isAdmin))
            {
                await sessions.RevokeSessionAsync(owner.SessionId, RevocationReasons.Revoked, cancellationToken);
                audit.Record(AuditEventTypes.TokenRevoked, owner.AccountId, "refresh token", callerId);
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        else if (await inspector.ValidateAsync(token) is { } jwt
            && (jwt.Subject == callerId.ToString(System.Globalization.CultureInfo.InvariantCulture) || isAdmin))
        {
            await sessions.RevokeAccessTokenAsync(jwt.Id, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), cancellationToken);
            audit.Record(AuditEventTypes.TokenRevoked, long.TryParse(jwt.Subject, out var subject) ? subject : null, "access token", callerId);
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok();
    }

    private static async Task<Results<Ok<IntrospectionResponse>, JsonHttpResult<OAuthErrorResponse>>> Introspect(
        HttpRequest request, Caller caller, ServiceUserCredentials clients, AccessTokenInspector inspector, SessionTokens sessions, IOptions<TokenOptions> options, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return Error(OAuthErrors.InvalidRequest, "Send the token as an application/x-www-form-urlencoded form field named token.");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var token = form["token"].ToString();
        if (token.Length == 0)
        {
            return Error(OAuthErrors.InvalidRequest, "The token parameter is required.");
        }

        // CONTRACTS.md: an admin or a service client (a resource server checking tokens).
        var (authenticated, failure) = await AuthenticateCallerAsync(request, form, caller, clients, cancellationToken);
        if (authenticated is null)
        {
            return failure!;
        }

        if (!authenticated.IsAdmin && authenticated.ClientId is null)
        {
            return Error("insufficient_scope", "Only an administrator or a service user's client (client_id and client_secret) may introspect tokens.", StatusCodes.Status403Forbidden);
        }

        if (OpaqueTokens.LooksValid(token))
        {
            var owner = await sessions.FindRefreshTokenSessionAsync(token, cancellationToken);
            return TypedResults.Ok(owner is { } o
                ? new IntrospectionResponse { Active = true, TokenType = "refresh_token", Subject = o.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture), SessionId = o.SessionId, Issuer = options.Value.Issuer }
                : new IntrospectionResponse { Active = false });
        }

        if (await inspector.ValidateAsync(token) is not { } jwt)
        {
            return TypedResults.Ok(new IntrospectionResponse { Active = false });
        }

        string? Claim(string name) => jwt.TryGetPayloadValue<string>(name, out var value) ? value : null;
        return TypedResults.Ok(new IntrospectionResponse
        {
            Active = true,
            TokenType = "Bearer",
            ClientId = Claim(TokenClaims.ClientId),
            Username = Claim(TokenClaims.PreferredUsername),
            Subject = jwt.Subject,
            ExpiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero).ToUnixTimeSeconds(),
            IssuedAt = new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds(),
            NotBefore = new DateTimeOffset(jwt.ValidFrom, TimeSpan.Zero).ToUnixTimeSeconds(),
            Issuer = jwt.Issuer,
            Audience = jwt.Audiences.FirstOrDefault(),
            Jti = jwt.Id,
            SessionId = Claim(TokenClaims.SessionId),
            Role = Claim(TokenClaims.Role),
            Dialect = Claim(TokenClaims.Dialect),
        });
    }
}

/// <summary>Failures on the OAuth endpoints in the RFC 6749 §5.2 / RFC 6750 §3.1 shape.</summary>
internal sealed class OAuthAuthFailureWriter : IAuthFailureWriter
{
    public static readonly OAuthAuthFailureWriter Instance = new();

    public Task WriteAsync(HttpContext context, AuthFailureKind kind) => (kind switch
    {
        AuthFailureKind.MissingCredentials => OAuthEndpoints.Error(OAuthErrors.InvalidClient, "Authenticate with 'Authorization: Bearer <access_token>'.", StatusCodes.Status401Unauthorized),
        AuthFailureKind.InvalidToken => OAuthEndpoints.Error("invalid_token", "The access token is malformed, expired or revoked.", StatusCodes.Status401Unauthorized),
        AuthFailureKind.Forbidden => OAuthEndpoints.Error("insufficient_scope", "Only an administrator may use this endpoint.", StatusCodes.Status403Forbidden),
        // RFC 6749 §5.2 has no code for these; temporarily_unavailable is the one it defines
        // for an overloaded server (§4.1.2.1), and slow_down (RFC 8628 §3.5) for a client polling too fast.
        AuthFailureKind.RateLimited => OAuthEndpoints.Error("slow_down", "Too many requests from your address. Retry after the number of seconds in Retry-After.", StatusCodes.Status429TooManyRequests),
        AuthFailureKind.Overloaded => OAuthEndpoints.Error("temporarily_unavailable", AuthFailures.OverloadedReason(context) ?? "The server is busy. Retry after the number of seconds in Retry-After.", StatusCodes.Status503ServiceUnavailable),
        AuthFailureKind.StoreUnavailable => OAuthEndpoints.Error("temporarily_unavailable", "The data store is unreachable or busy for a moment. Retry after the number of seconds in Retry-After.", StatusCodes.Status503ServiceUnavailable),
        _ => OAuthEndpoints.Error(OAuthErrors.InvalidRequest, "The request carries two different tokens. Send exactly one."),
    }).ExecuteAsync(context);
}
