using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.Tokens;

/// <summary>
/// Opaque secrets (refresh tokens, service-user client secrets): 256 random bits, stored only
/// as their SHA-256.
/// </summary>
public static class OpaqueTokens
{
    /// <summary>Base64url of 32 random bytes: 43 characters.</summary>
    public static string Generate() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// SHA-256 is enough here (no salt, no work factor): the input is 256 random bits, not a
    /// human secret, so there is nothing to guess. Lower-case hex, 64 characters.
    /// </summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A cheap shape check before any store lookup; anything else cannot be one of ours.</summary>
    public static bool LooksValid(string? token) => token is { Length: 43 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
