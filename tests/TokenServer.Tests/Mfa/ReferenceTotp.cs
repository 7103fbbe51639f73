using System.Security.Cryptography;

namespace TokenServer.Tests.Mfa;

/// <summary>
/// A second, independent TOTP (RFC 6238 §4 over RFC 4226 §5.3), so the tests do not check the
/// server's library against itself. It is proven on the RFC's own vectors in <see cref="TotpVectorTests"/>.
/// </summary>
public static class ReferenceTotp
{
    public static string Code(byte[] secret, DateTimeOffset at, int digits = 6)
    {
        var counter = at.ToUnixTimeSeconds() / 30;
        Span<byte> message = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(message, counter);
        // RFC 6238 §1.2 and the authenticator apps: HMAC-SHA-1, still sound as an HMAC (RFC 6194 §3).
#pragma warning disable CA5350
        var hash = HMACSHA1.HashData(secret, message);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        var modulo = (int)Math.Pow(10, digits);
        return (binary % modulo).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>RFC 4648 §6 base32, as the enrolment answer's <c>secret</c> is written.</summary>
    public static byte[] FromBase32(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bits = 0;
        var value = 0;
        var bytes = new List<byte>();
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            value = (value << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(value >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }
}
