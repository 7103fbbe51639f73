using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tokens;

namespace TokenServer.Tests.Security;

/// <summary>
/// docs/security.md (RFC 8725): forged and malformed tokens against GET /api/v1/auth/me. Each
/// is built from a real token of a real login, so only the one property under test is wrong;
/// the first case re-signs the untouched token with our key and must pass, which proves the
/// forgery harness itself produces tokens the server would otherwise accept.
/// </summary>
public sealed class ForgedTokenTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public ForgedTokenTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    private sealed record Parts(JsonObject Header, JsonObject Payload, string Signature, string Raw);

    private static Parts Split(string token)
    {
        var p = token.Split('.');
        return new Parts(
            JsonNode.Parse(Base64UrlEncoder.Decode(p[0]))!.AsObject(),
            JsonNode.Parse(Base64UrlEncoder.Decode(p[1]))!.AsObject(),
            p[2],
            token);
    }

    private static string Encode(JsonObject json) => Base64UrlEncoder.Encode(json.ToJsonString());

    private static string SignEs256(JsonObject header, JsonObject payload, ECDsa key)
    {
        var input = Encode(header) + "." + Encode(payload);
        return input + "." + Base64UrlEncoder.Encode(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));
    }

    private static string SignHs256(JsonObject header, JsonObject payload, byte[] secret)
    {
        var input = Encode(header) + "." + Encode(payload);
        return input + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    private static JsonObject Clone(JsonObject o) => o.DeepClone().AsObject();

    private async Task<Dictionary<string, string>> ForgeriesAsync()
    {
        var tokens = await client.RegisterAndLoginAsync("target@example.org");
        var real = Split(tokens.AccessToken);
        var ours = ((ECDsaSecurityKey)factory.Services.GetRequiredService<SigningKeyRing>().CurrentSigningCredentials.Key).ECDsa;
        using var foreign = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = factory.Time.GetUtcNow().ToUnixTimeSeconds();

        using var jwksResponse = await client.GetAsync("/.well-known/jwks.json");
        var jwksText = await jwksResponse.Content.ReadAsStringAsync();
        var jwk = JsonNode.Parse(jwksText)!["keys"]![0]!.AsObject();
        var x = Base64UrlEncoder.DecodeBytes(jwk["x"]!.GetValue<string>());
        var y = Base64UrlEncoder.DecodeBytes(jwk["y"]!.GetValue<string>());

        string Ours(Action<JsonObject, JsonObject> change)
        {
            var h = Clone(real.Header);
            var p = Clone(real.Payload);
            change(h, p);
            return SignEs256(h, p, ours);
        }

        string Foreign(Action<JsonObject> changeHeader)
        {
            var h = Clone(real.Header);
            changeHeader(h);
            return SignEs256(h, Clone(real.Payload), foreign);
        }

        string Hmac(byte[] secret)
        {
            var h = Clone(real.Header);
            h["alg"] = "HS256";
            return SignHs256(h, Clone(real.Payload), secret);
        }

        string Unsigned(string alg)
        {
            var h = Clone(real.Header);
            h["alg"] = alg;
            return Encode(h) + "." + Encode(real.Payload) + ".";
        }

        var foreignJwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(foreign.ExportParameters(false).Q.X),
            ["y"] = Base64UrlEncoder.Encode(foreign.ExportParameters(false).Q.Y),
        };
        var pieces = tokens.AccessToken.Split('.');
        var tampered = Clone(real.Payload);
        tampered["role"] = "admin";

        return new Dictionary<string, string>
        {
            ["alg none"] = Unsigned("none"),
            ["alg None"] = Unsigned("None"),
            ["alg NONE"] = Unsigned("NONE"),
            ["alg nOnE"] = Unsigned("nOnE"),
            ["alg none with the real signature"] = Unsigned("none") + pieces[2],
            ["stripped signature"] = pieces[0] + "." + pieces[1] + ".",
            ["stripped signature, no dot"] = pieces[0] + "." + pieces[1],
            ["tampered payload"] = pieces[0] + "." + Encode(tampered) + "." + pieces[2],
            ["tampered signature"] = pieces[0] + "." + pieces[1] + "." + (pieces[2][0] == 'A' ? 'B' : 'A') + pieces[2][1..],
            ["HS256 keyed with x||y"] = Hmac([.. x, .. y]),
            ["HS256 keyed with the JWKS text"] = Hmac(Encoding.UTF8.GetBytes(jwksText)),
            ["HS256 keyed with the JWK text"] = Hmac(Encoding.UTF8.GetBytes(jwk.ToJsonString())),
            ["HS256 keyed with the SubjectPublicKeyInfo"] = Hmac(ours.ExportSubjectPublicKeyInfo()),
            ["foreign key, our kid"] = Foreign(_ => { }),
            ["foreign key, unknown kid"] = Foreign(h => h["kid"] = "not-a-key-of-ours"),
            ["foreign key, no kid"] = Foreign(h => h.Remove("kid")),
            ["foreign key, embedded jwk"] = Foreign(h => { h["jwk"] = foreignJwk.DeepClone(); h.Remove("kid"); }),
            ["foreign key, jku elsewhere"] = Foreign(h => h["jku"] = "https://attacker.example/jwks.json"),
            ["foreign key, x5u elsewhere"] = Foreign(h => h["x5u"] = "https://attacker.example/cert.pem"),
            ["our key, jku elsewhere"] = Ours((h, _) => h["jku"] = "https://attacker.example/jwks.json"),
            ["our key, x5u elsewhere"] = Ours((h, _) => h["x5u"] = "https://attacker.example/cert.pem"),
            ["our key, embedded jwk"] = Ours((h, _) => h["jwk"] = foreignJwk.DeepClone()),
            ["crit header"] = Ours((h, _) => h["crit"] = new JsonArray("exp")),
            ["expired"] = Ours((_, p) => { p["nbf"] = now - 7200; p["iat"] = now - 7200; p["exp"] = now - 1; }),
            ["expires now"] = Ours((_, p) => p["exp"] = now),
            ["not yet valid"] = Ours((_, p) => p["nbf"] = now + 3600),
            ["wrong issuer"] = Ours((_, p) => p["iss"] = "https://attacker.example"),
            ["wrong audience"] = Ours((_, p) => p["aud"] = "someone-else"),
            ["typ JWT"] = Ours((h, _) => h["typ"] = "JWT"),
            ["no typ"] = Ours((h, _) => h.Remove("typ")),
            ["missing sub"] = Ours((_, p) => p.Remove("sub")),
            ["missing jti"] = Ours((_, p) => p.Remove("jti")),
            ["missing sid"] = Ours((_, p) => p.Remove("sid")),
            ["missing exp"] = Ours((_, p) => p.Remove("exp")),
            ["missing nbf"] = Ours((_, p) => p.Remove("nbf")),
            ["missing iat"] = Ours((_, p) => p.Remove("iat")),
            ["missing iss"] = Ours((_, p) => p.Remove("iss")),
            ["missing aud"] = Ours((_, p) => p.Remove("aud")),
            ["kid as a number"] = Ours((h, _) => h["kid"] = 42),
            ["exp as a string"] = Ours((_, p) => p["exp"] = "tomorrow"),
            ["oversized"] = Ours((_, p) => p["padding"] = new string('a', 9000)),
            ["garbage"] = "garbage",
            ["three dots"] = "...",
            ["a.b.c"] = "a.b.c",
            ["header not JSON"] = Base64UrlEncoder.Encode("not json") + "." + pieces[1] + "." + pieces[2],
            ["header a JSON array"] = Base64UrlEncoder.Encode("[1,2]") + "." + pieces[1] + "." + pieces[2],
            ["five segments (JWE shape)"] = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..AAAA.AAAA.AAAA",
            ["refresh token as access token"] = tokens.RefreshToken,
        };
    }

    [Fact]
    public async Task ResignedUntouchedToken_IsAccepted_SoTheHarnessIsSound()
    {
        var tokens = await client.RegisterAndLoginAsync("sound@example.org");
        var real = Split(tokens.AccessToken);
        var ours = ((ECDsaSecurityKey)factory.Services.GetRequiredService<SigningKeyRing>().CurrentSigningCredentials.Key).ECDsa;

        using var response = await client.GetWithTokenAsync("/api/v1/auth/me", SignEs256(real.Header, real.Payload, ours));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EveryForgedToken_Returns401ProblemWithInvalidToken_NeverA500()
    {
        var failures = new List<string>();
        foreach (var (name, token) in await ForgeriesAsync())
        {
            using var response = await client.GetWithTokenAsync("/api/v1/auth/me", token);
            var www = string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));
            if (response.StatusCode != HttpStatusCode.Unauthorized
                || response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                || !www.Contains("invalid_token", StringComparison.Ordinal))
            {
                failures.Add($"{name}: {(int)response.StatusCode} {www}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task AccessTokenUsedAsRefreshToken_IsRefusedOnBothRefreshRoutes()
    {
        var tokens = await client.RegisterAndLoginAsync("swap@example.org");

        using var native = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.AccessToken });
        JsonAssert.IsProblem(native, HttpStatusCode.Unauthorized);

        using var oauth = await client.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens.AccessToken,
        });
        Assert.Equal(HttpStatusCode.BadRequest, oauth.StatusCode);
        Assert.Equal("invalid_grant", (await oauth.ReadJsonAsync()).GetProperty("error").GetString());
    }
}
