using System.Text;
using TokenServer.Mfa;

namespace TokenServer.Tests.Mfa;

/// <summary>RFC 6238 Appendix B, the SHA-1 rows (seed "12345678901234567890"): the tests' reference and the server agree with the RFC.</summary>
public sealed class TotpVectorTests
{
    private static readonly byte[] Seed = Encoding.ASCII.GetBytes("12345678901234567890");

    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void AppendixB_Sha1Vectors(long unixSeconds, string eightDigits)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
        var sixDigits = eightDigits[2..];

        Assert.Equal(eightDigits, ReferenceTotp.Code(Seed, at, digits: 8));
        Assert.Equal(sixDigits, ReferenceTotp.Code(Seed, at));
        Assert.Equal(sixDigits, TotpCodes.Compute(Seed, at));
        Assert.Equal(unixSeconds / 30, TotpCodes.Verify(Seed, sixDigits, at));

        // Two steps away is outside the window (one step either side).
        Assert.Null(TotpCodes.Verify(Seed, sixDigits, at.AddSeconds(61)));
    }
}
