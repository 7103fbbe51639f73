using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace TokenServer.Tokens;

/// <summary>Validates a token given in a request body (RFC 7009 revocation, RFC 7662 introspection) exactly as the bearer handler would.</summary>
public sealed class AccessTokenInspector(IOptionsMonitor<JwtBearerOptions> bearer, RevocationList revocations, IOptions<TokenOptions> options)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>The token if it is one of ours, correctly signed, current and not revoked; otherwise null.</summary>
    public async Task<JsonWebToken?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > options.Value.MaxTokenLength)
        {
            return null;
        }

        var parameters = bearer.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        var result = await Handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>(TokenClaims.SessionId, out var sid);
        return sid is null || revocations.IsRevoked(sid, jwt.Id) ? null : jwt;
    }
}
