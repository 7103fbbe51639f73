using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.Tokens;

/// <summary>Who a token is about; the same claims whichever front door issued it.</summary>
public sealed record TokenSubject(string Subject, string? Email, string? Username, string Role);

public sealed record IssuedAccessToken(string Token, string Jti, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    public int ExpiresInSeconds => (int)Math.Round((ExpiresAt - IssuedAt).TotalSeconds);
}

/// <summary>Names of the claims this server puts in access tokens (RFC 9068 §2.2 plus ours).</summary>
public static class TokenClaims
{
    public const string SessionId = "sid";
    public const string Dialect = "dialect";
    public const string ClientId = "client_id";
    public const string Role = "role";
    public const string Email = "email";
    public const string PreferredUsername = "preferred_username";
    public const string Scope = "scope";
    public const string AccessTokenType = "at+jwt";

    /// <summary>RFC 8176 authentication method references (<c>pwd</c>, <c>otp</c>), from the login session.</summary>
    public const string AuthenticationMethods = "amr";
}

/// <summary>Mints RFC 9068 access tokens signed with the key ring's current key.</summary>
public sealed class AccessTokenIssuer(SigningKeyRing keys, IOptions<TokenOptions> options, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public IssuedAccessToken Issue(
        TokenSubject subject,
        string sessionId,
        string dialect,
        string clientId,
        TimeSpan lifetime,
        DateTimeOffset notAfter,
        IReadOnlyDictionary<string, object>? extraClaims = null,
        string? audience = null)
    {
        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expires = issuedAt + lifetime;
        if (expires > notAfter)
        {
            // No access token outlives its session, so a revoked session need only be
            // remembered until the session itself would have ended.
            expires = DateTimeOffset.FromUnixTimeSeconds(notAfter.ToUnixTimeSeconds());
        }

        var jti = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = subject.Subject,
            [JwtRegisteredClaimNames.Jti] = jti,
            [TokenClaims.SessionId] = sessionId,
            [TokenClaims.ClientId] = clientId,
            [TokenClaims.Dialect] = dialect,
            [TokenClaims.Role] = subject.Role,
            [TokenClaims.PreferredUsername] = subject.Username ?? subject.Email ?? subject.Subject,
        };
        if (subject.Email is not null)
        {
            claims[TokenClaims.Email] = subject.Email;
        }

        if (extraClaims is not null)
        {
            foreach (var (name, value) in extraClaims)
            {
                claims.TryAdd(name, value);
            }
        }

        var o = options.Value;
        if (audience is not null && audience != o.Audience)
        {
            // RFC 9068 §3: the client's resource server, and this server (so /userinfo and the
            // native routes still accept the token).
            claims[JwtRegisteredClaimNames.Aud] = new[] { audience, o.Audience };
        }

        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = o.Issuer,
            Audience = claims.ContainsKey(JwtRegisteredClaimNames.Aud) ? null : o.Audience,
            IssuedAt = issuedAt.UtcDateTime,
            NotBefore = issuedAt.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = TokenClaims.AccessTokenType,
            SigningCredentials = keys.CurrentSigningCredentials,
            Claims = claims,
        });
        return new IssuedAccessToken(token, jti, issuedAt, expires);
    }
}
