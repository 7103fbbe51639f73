using System.Security.Cryptography;
using OtpNet;
using TokenServer.Tokens;

namespace TokenServer.Mfa;

/// <summary>
/// TOTP as RFC 6238 with the parameters every authenticator app supports: HMAC-SHA-1, 6 digits,
/// 30-second steps, counted from the Unix epoch; computed by Otp.NET.
/// </summary>
public static class TotpCodes
{
    public const int Digits = 6;
    public const int StepSeconds = 30;

    /// <summary>RFC 4226 §4 R6 asks for at least 128 bits and recommends 160: the length of an SHA-1 key.</summary>
    public const int SecretBytes = 20;

    /// <summary>
    /// One step either side of now is accepted, for clock drift and typing time (RFC 6238 §5.2,
    /// "at most one time step"); <see cref="TotpAuthenticator.LastUsedStep"/> stops a replay.
    /// </summary>
    private static readonly VerificationWindow Window = new(previous: 1, future: 1);

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret);

    /// <summary>The key URI authenticator apps read from a QR code (the Google Authenticator key URI format).</summary>
    public static string KeyUri(byte[] secret, string issuer, string account) =>
        new OtpUri(OtpType.Totp, Base32(secret), account, issuer, OtpHashMode.Sha1, Digits, StepSeconds).ToString();

    /// <summary>The time step the code belongs to if it is right at <paramref name="now"/> (within the window), else null.</summary>
    public static long? Verify(byte[] secret, string code, DateTimeOffset now)
    {
        if (code.Length != Digits || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        var totp = new Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits);
        return totp.VerifyTotp(now.UtcDateTime, code, out var step, Window) ? step : null;
    }

    /// <summary>The code of <paramref name="now"/>'s step (for tests and diagnostics only; the server never sends a code).</summary>
    public static string Compute(byte[] secret, DateTimeOffset now) => new Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits).ComputeTotp(now.UtcDateTime);
}

/// <summary>
/// Recovery codes: 80 random bits each, written as four groups of four base32 letters
/// ("abcd-efgh-ijkl-mnop") so a person can copy them; typed back with or without dashes,
/// in either case. 80 bits make an unsalted SHA-256 at rest safe against guessing.
/// </summary>
public static class RecoveryCodes
{
    public const int Count = 10;

    public static string Generate()
    {
        var text = Base32Encoding.ToString(RandomNumberGenerator.GetBytes(10)).ToLowerInvariant();
        return $"{text[..4]}-{text[4..8]}-{text[8..12]}-{text[12..16]}";
    }

    public static string? Normalize(string code)
    {
        var letters = new string([.. code.Where(c => c is not '-' and not ' ')]).ToLowerInvariant();
        return letters.Length == 16 && letters.All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7')) ? letters : null;
    }

    public static string Hash(string normalized) => OpaqueTokens.Hash(normalized);
}
