using TokenServer.Tokens;

namespace TokenServer.PersonalAccessTokens;

/// <summary>The token's shape: a recognisable prefix (so secret scanners and people can tell what leaked) and 256 random bits.</summary>
public static class PersonalAccessTokenFormat
{
    public const string Prefix = "tsp_";

    public static string Generate() => Prefix + OpaqueTokens.Generate();

    public static bool LooksValid(string? token) =>
        token is not null && token.StartsWith(Prefix, StringComparison.Ordinal) && OpaqueTokens.LooksValid(token[Prefix.Length..]);
}
