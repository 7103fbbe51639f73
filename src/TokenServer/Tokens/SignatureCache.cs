using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.Tokens;

/// <summary>
/// Verifies a token's signature once and remembers that it did. An ES256 verification costs
/// more than everything else a protected GET does; clients present the same access token
/// again and again, so the second and later presentations only hash the token (SHA-256 of the
/// whole compact form: any changed byte is a different entry). Only the signature is
/// remembered: lifetime, issuer, audience, type and revocation are checked on every request,
/// so an entry outliving its token's revocation or expiry changes nothing. Bounded: entries
/// leave at their token's expiry, and the cache is emptied whole when full.
/// </summary>
public sealed class SignatureCache(SigningKeyRing keys, TimeProvider time)
{
    public const int Capacity = 20_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> verified = new(StringComparer.Ordinal);
    private long nextSweep;

    /// <summary>A <see cref="TokenValidationParameters.SignatureValidator"/>: the parsed token when its signature is ours, otherwise an exception.</summary>
    public SecurityToken Validate(string token, TokenValidationParameters parameters)
    {
        var jwt = new JsonWebToken(token);
        var key = CacheKey(token);
        var now = time.GetUtcNow();
        if (jwt.IssuedAt == DateTime.MinValue || keys.IssuedAfterRetirement(jwt.Kid, new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero)))
        {
            throw new SecurityTokenInvalidSignatureException("The token names a key that had retired, or was withdrawn, before the token was issued.");
        }

        if (verified.TryGetValue(key, out var until) && until > now)
        {
            jwt.SigningKey = keys.ResolveValidationKeys(jwt.Kid).FirstOrDefault();
            if (jwt.SigningKey is not null)
            {
                return jwt;
            }
        }

        Verify(jwt);
        Remember(key, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), now);
        return jwt;
    }

    private void Verify(JsonWebToken jwt)
    {
        // RFC 8725 §3.1: only our algorithms; the key must be one of ours, named by kid.
        if (!SigningAlgorithms.Allowed.Contains(jwt.Alg))
        {
            throw new SecurityTokenInvalidAlgorithmException($"Algorithm '{jwt.Alg}' is not accepted.");
        }

        var signingKey = keys.ResolveValidationKeys(jwt.Kid).FirstOrDefault()
            ?? throw new SecurityTokenSignatureKeyNotFoundException("The token's kid names no key of this server.");
        var factory = signingKey.CryptoProviderFactory;
        var provider = factory.CreateForVerifying(signingKey, jwt.Alg);
        try
        {
            var signed = Encoding.ASCII.GetBytes(jwt.EncodedHeader + "." + jwt.EncodedPayload);
            if (!provider.Verify(signed, Base64UrlEncoder.DecodeBytes(jwt.EncodedSignature)))
            {
                throw new SecurityTokenInvalidSignatureException("The token's signature does not verify.");
            }
        }
        catch (FormatException)
        {
            throw new SecurityTokenInvalidSignatureException("The token's signature is not base64url.");
        }
        finally
        {
            factory.ReleaseSignatureProvider(provider);
        }

        jwt.SigningKey = signingKey;
    }

    private void Remember(string key, DateTimeOffset expires, DateTimeOffset now)
    {
        if (expires <= now)
        {
            return;
        }

        if (verified.Count >= Capacity)
        {
            Sweep(now, force: true);
        }
        else if (now.UtcTicks > Interlocked.Read(ref nextSweep))
        {
            Sweep(now, force: false);
        }

        verified[key] = expires;
    }

    private void Sweep(DateTimeOffset now, bool force)
    {
        Interlocked.Exchange(ref nextSweep, (now + TimeSpan.FromMinutes(1)).UtcTicks);
        foreach (var (key, until) in verified)
        {
            if (until <= now)
            {
                verified.TryRemove(key, out _);
            }
        }

        if (force && verified.Count >= Capacity)
        {
            verified.Clear();
        }
    }

    private static string CacheKey(string token)
    {
        Span<byte> hash = stackalloc byte[32];
        var bytes = Encoding.ASCII.GetBytes(token);
        SHA256.HashData(bytes, hash);
        return Convert.ToBase64String(hash);
    }
}
