using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.Tokens;

/// <summary>What an ID token says about the sign-in (OpenID Connect Core 1.0 §2).</summary>
public sealed record IdTokenRequest(
    string Subject,
    string ClientId,
    string SessionId,
    DateTimeOffset AuthTime,
    string? Nonce,
    IReadOnlyList<string> Amr,
    TimeSpan Lifetime,
    IReadOnlyDictionary<string, object> ProfileClaims,
    string? Acr = null);

/// <summary>
/// ID tokens (OpenID Connect Core 1.0 §2) and logout tokens (Back-Channel Logout 1.0 §2.4),
/// signed with the same key ring as access tokens and typed so that neither passes for an
/// access token (RFC 8725 §3.11: the bearer handler accepts only <c>at+jwt</c>).
/// </summary>
public sealed class IdTokenIssuer(SigningKeyRing keys, IOptions<TokenOptions> options, TimeProvider time)
{
    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Issue(IdTokenRequest request)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var claims = new Dictionary<string, object>(request.ProfileClaims, StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = request.Subject,
            [JwtRegisteredClaimNames.AuthTime] = request.AuthTime.ToUnixTimeSeconds(),
            [TokenClaims.SessionId] = request.SessionId,
            [JwtRegisteredClaimNames.Amr] = request.Amr.ToArray(),
            [JwtRegisteredClaimNames.Azp] = request.ClientId,
        };
        if (request.Acr is not null)
        {
            claims[JwtRegisteredClaimNames.Acr] = request.Acr;
        }

        if (request.Nonce is not null)
        {
            claims[JwtRegisteredClaimNames.Nonce] = request.Nonce;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = request.ClientId,
            IssuedAt = now.UtcDateTime,
            Expires = (now + request.Lifetime).UtcDateTime,
            TokenType = "JWT",
            SigningCredentials = keys.CurrentSigningCredentials,
            Claims = claims,
        });
    }

    /// <summary>A logout token for one client (Back-Channel Logout 1.0 §2.4): no nonce, the logout event, two minutes to live.</summary>
    public string IssueLogoutToken(string subject, string clientId, string sessionId)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = clientId,
            IssuedAt = now.UtcDateTime,
            Expires = now.AddMinutes(2).UtcDateTime,
            TokenType = "logout+jwt",
            SigningCredentials = keys.CurrentSigningCredentials,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [TokenClaims.SessionId] = sessionId,
                [JwtRegisteredClaimNames.Jti] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                ["events"] = new Dictionary<string, object> { [BackChannelLogoutEvent] = new Dictionary<string, object>() },
            },
        });
    }

    /// <summary>
    /// Reads an <c>id_token_hint</c> (RP-Initiated Logout 1.0 §2): one of our ID tokens, correctly
    /// signed, possibly expired. Null for anything else.
    /// </summary>
    public async Task<JsonWebToken?> ReadHintAsync(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > options.Value.MaxTokenLength)
        {
            return null;
        }

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Value.Issuer,
            ValidateAudience = false,
            ValidateLifetime = false,
            ValidAlgorithms = SigningAlgorithms.Allowed,
            ValidTypes = ["JWT"],
            IssuerSigningKeyResolver = (_, _, kid, _) => keys.ResolveValidationKeys(kid),
        });
        return result.IsValid ? result.SecurityToken as JsonWebToken : null;
    }
}
