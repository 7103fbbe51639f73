using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core 1.0 §3.1.2.1).</summary>
public sealed record AuthorizationRequest(
    OidcClient Client,
    string RedirectUri,
    string? State,
    string? Nonce,
    IReadOnlyList<string> Scopes,
    string CodeChallenge,
    IReadOnlySet<string> Prompt,
    int? MaxAge,
    string? LoginHint,
    IReadOnlyDictionary<string, StringValues> Parameters)
{
    public string Scope => string.Join(' ', Scopes);

    /// <summary>The request as a local URL to come back to, with the given prompt values dropped (they have been honoured).</summary>
    public string ReturnUrl(params string[] honoured)
    {
        var query = new Dictionary<string, StringValues>(Parameters, StringComparer.Ordinal);
        var prompt = Prompt.Where(p => !honoured.Contains(p)).ToList();
        query.Remove("prompt");
        if (prompt.Count > 0)
        {
            query["prompt"] = string.Join(' ', prompt);
        }

        return QueryHelpers.AddQueryString(AuthorizeEndpoints.AuthorizePath, query);
    }
}

/// <summary>Why an authorization request failed, and where to say so.</summary>
public sealed record AuthorizationError(string Error, string Description, string? RedirectUri, string? State)
{
    /// <summary>
    /// Only a registered, exactly matching redirect URI receives the error (RFC 6749 §4.1.2.1);
    /// otherwise the user sees the error page and the browser goes nowhere.
    /// </summary>
    public bool Redirects => RedirectUri is not null;
}

/// <summary>Parses and validates authorization requests; shared by the authorize endpoint and the consent page.</summary>
public sealed class AuthorizationRequests(ClientRegistry registry, IOptions<TokenOptions> tokenOptions)
{
    private static readonly string[] PromptValues = ["none", "login", "consent"];

    public async Task<(AuthorizationRequest? Request, AuthorizationError? Error)> ParseAsync(IEnumerable<KeyValuePair<string, StringValues>> raw, CancellationToken cancellationToken)
    {
        var parameters = raw.Where(p => p.Key.Length > 0).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        // RFC 6749 §3.1: parameters sent without a value are treated as omitted; none may repeat.
        string? One(string name) => parameters.TryGetValue(name, out var v) && v.Count == 1 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;
        if (parameters.FirstOrDefault(p => p.Value.Count > 1).Key is { } repeated)
        {
            return Fail(OidcErrors.InvalidRequest, $"The parameter '{repeated}' is repeated; send each parameter once.", null, null);
        }

        var clientId = One("client_id");
        var client = await registry.FindAsync(clientId, cancellationToken);
        if (client is null)
        {
            return Fail(OidcErrors.InvalidRequest, "unknown_client", null, null);
        }

        var redirectUri = One("redirect_uri");
        if (redirectUri is null || !client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
        {
            // Exact string match (RFC 9700 §4.1.3): no prefix, no pattern, no default.
            return Fail(OidcErrors.InvalidRequest, "redirect_uri", null, null);
        }

        var state = One("state");
        if (One("response_type") != "code")
        {
            return Fail(OidcErrors.UnsupportedResponseType, "Only response_type=code is supported (the authorization code flow with PKCE).", redirectUri, state);
        }

        if (One("response_mode") is { } mode && mode != "query")
        {
            return Fail(OidcErrors.InvalidRequest, "Only response_mode=query is supported.", redirectUri, state);
        }

        if (!client.GrantTypes.Contains(OidcGrantTypes.AuthorizationCode))
        {
            return Fail(OidcErrors.UnauthorizedClient, "This client is not registered for the authorization_code grant.", redirectUri, state);
        }

        var scopes = OidcScopes.Parse(One("scope"));
        if (scopes.Count == 0)
        {
            return Fail(OidcErrors.InvalidScope, "Ask for at least one scope, for example scope=openid.", redirectUri, state);
        }

        if (scopes.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } unknown)
        {
            return Fail(OidcErrors.InvalidScope, $"The scope '{unknown}' is not registered for this client.", redirectUri, state);
        }

        var challenge = One("code_challenge");
        if (challenge is null || One("code_challenge_method") != "S256")
        {
            return Fail(OidcErrors.InvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256 (RFC 7636 §4.3).", redirectUri, state);
        }

        if (challenge.Length != 43 || !challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return Fail(OidcErrors.InvalidRequest, "code_challenge must be the base64url SHA-256 of the code verifier: 43 characters (RFC 7636 §4.2).", redirectUri, state);
        }

        var prompt = (One("prompt") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (prompt.FirstOrDefault(p => !PromptValues.Contains(p)) is { } badPrompt)
        {
            return Fail(OidcErrors.InvalidRequest, $"prompt '{badPrompt}' is not supported; use none, login or consent.", redirectUri, state);
        }

        if (prompt.Contains("none") && prompt.Count > 1)
        {
            return Fail(OidcErrors.InvalidRequest, "prompt=none cannot be combined with other values (OpenID Connect Core 1.0 §3.1.2.1).", redirectUri, state);
        }

        int? maxAge = null;
        if (One("max_age") is { } maxAgeText)
        {
            if (!int.TryParse(maxAgeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                return Fail(OidcErrors.InvalidRequest, "max_age must be a number of seconds.", redirectUri, state);
            }

            maxAge = seconds;
        }

        if (One("request") is not null || One("request_uri") is not null)
        {
            return Fail(OidcErrors.RequestNotSupported, "Request objects are not supported; send the parameters themselves.", redirectUri, state);
        }

        var nonce = One("nonce");
        if (nonce is { Length: > 500 } || state is { Length: > 2000 })
        {
            return Fail(OidcErrors.InvalidRequest, "state may be at most 2000 characters and nonce at most 500.", redirectUri, state);
        }

        return (new AuthorizationRequest(client, redirectUri, state, nonce, scopes, challenge, prompt, maxAge, One("login_hint"), parameters), null);
    }

    /// <summary>The client's redirect URI with the response parameters, and <c>iss</c> (RFC 9207 §2).</summary>
    public string RedirectWith(string redirectUri, string? state, params (string Name, string Value)[] values)
    {
        var query = values.ToDictionary(v => v.Name, v => (string?)v.Value, StringComparer.Ordinal);
        if (state is not null)
        {
            query["state"] = state;
        }

        query["iss"] = tokenOptions.Value.Issuer;
        return QueryHelpers.AddQueryString(redirectUri, query);
    }

    public string RedirectWith(AuthorizationError error) =>
        RedirectWith(error.RedirectUri!, error.State, ("error", error.Error), ("error_description", error.Description));

    private static (AuthorizationRequest?, AuthorizationError?) Fail(string error, string description, string? redirectUri, string? state) =>
        (null, new AuthorizationError(error, description, redirectUri, state));
}

/// <summary>Error codes of RFC 6749 §4.1.2.1 and OpenID Connect Core 1.0 §3.1.2.6.</summary>
public static class OidcErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string AccessDenied = "access_denied";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string InvalidScope = "invalid_scope";
    public const string LoginRequired = "login_required";
    public const string ConsentRequired = "consent_required";
    public const string RequestNotSupported = "request_not_supported";
}
