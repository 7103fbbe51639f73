using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Auth;

/// <summary>CONTRACTS.md "Everywhere": token format, JWKS, discovery, key rotation, header schemes.</summary>
public sealed class TokenFormatTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly HttpClient client;

    public TokenFormatTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task AccessToken_HasTheContractHeaderAndClaims()
    {
        var tokens = await client.RegisterAndLoginAsync("claims@example.org", username: "claimer");

        var jwt = new JsonWebToken(tokens.AccessToken);

        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.False(string.IsNullOrEmpty(jwt.Kid));
        foreach (var claim in new[] { "iss", "aud", "sub", "jti", "iat", "nbf", "exp", "sid", "email", "preferred_username", "role", "dialect", "client_id" })
        {
            Assert.True(jwt.TryGetPayloadValue<object>(claim, out _), $"missing claim {claim}");
        }

        Assert.Equal("http://localhost:8000", jwt.Issuer);
        Assert.Equal("tokenserver", jwt.Audiences.Single());
        Assert.Equal("claimer", jwt.GetPayloadValue<string>("preferred_username"));
        Assert.Equal("native", jwt.GetPayloadValue<string>("dialect"));
    }

    [Fact]
    public async Task Jwks_HasPublicPartsOnly()
    {
        using var response = await client.GetAsync("/.well-known/jwks.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = (await response.ReadJsonAsync()).GetProperty("keys");
        Assert.Equal(1, keys.GetArrayLength());
        var key = keys[0];
        JsonAssert.HasExactly(key, "kty", "use", "alg", "kid", "crv", "x", "y");
        Assert.False(key.TryGetProperty("d", out _));
    }

    [Fact]
    public async Task IssuedToken_VerifiesOfflineFromTheServedJwksAlone()
    {
        var tokens = await client.RegisterAndLoginAsync("thirdparty@example.org");
        var discovery = await client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");
        var jwksUri = new Uri(discovery.GetProperty("jwks_uri").GetString()!);
        var jwks = new JsonWebKeySet(await client.GetStringAsync(jwksUri.PathAndQuery));

        // What a third-party resource server does with Microsoft.IdentityModel and nothing of ours.
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(tokens.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = discovery.GetProperty("issuer").GetString(),
            ValidAudience = "tokenserver",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = ["ES256"],
            LifetimeValidator = (_, _, _, _) => true,
        });

        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task Discovery_NamesTheEndpoints()
    {
        var json = await client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        Assert.Equal("http://localhost:8000", json.GetProperty("issuer").GetString());
        Assert.Equal("http://localhost:8000/.well-known/jwks.json", json.GetProperty("jwks_uri").GetString());
        Assert.Equal("http://localhost:8000/api/v1/auth/token", json.GetProperty("token_endpoint").GetString());
        Assert.Equal("http://localhost:8000/api/v1/auth/revoke", json.GetProperty("revocation_endpoint").GetString());
        Assert.Equal("http://localhost:8000/api/v1/auth/introspect", json.GetProperty("introspection_endpoint").GetString());
        Assert.Contains("password", json.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task KeyRotation_PublishesFirst_SignsAfterTheLead_AndOldTokensStayValid()
    {
        var admin = await client.LoginAdminAsync();
        var oldKid = new JsonWebToken(admin.AccessToken).Kid;

        using var rotate = await client.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var newKid = (await rotate.ReadJsonAsync()).GetProperty("kid").GetString();
        Assert.NotEqual(oldKid, newKid);

        // Published at once, before it signs.
        var kids = (await client.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json")).GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()).ToList();
        Assert.Contains(newKid, kids);
        Assert.Contains(oldKid, kids);
        Assert.Equal(oldKid, new JsonWebToken((await client.LoginAdminAsync()).AccessToken).Kid);

        factory.Time.Advance(TimeSpan.FromMinutes(10));

        var fresh = await client.LoginAdminAsync();
        Assert.Equal(newKid, new JsonWebToken(fresh.AccessToken).Kid);
        using var old = await client.GetWithTokenAsync("/api/v1/auth/me", admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);
    }

    [Fact]
    public async Task KeyRotation_ByNonAdmin_Returns403()
    {
        var user = await client.RegisterAndLoginAsync("rotator@example.org");

        using var rotate = await client.PostJsonWithTokenAsync("/api/v1/admin/keys/rotate", new { }, user.AccessToken);

        JsonAssert.IsProblem(rotate, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("Authorization", "Bearer {0}")]
    [InlineData("Authorization", "bearer {0}")]
    [InlineData("Authorization", "Token {0}")]
    [InlineData("Authorization", "JWT {0}")]
    [InlineData("ts-auth-token", "{0}")]
    public async Task EveryHeaderScheme_IsAccepted(string header, string format)
    {
        var tokens = await client.RegisterAndLoginAsync("schemes@example.org");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        request.Headers.TryAddWithoutValidation(header, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, tokens.AccessToken));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("pair_user", HttpStatusCode.OK)]
    [InlineData("PAIR_USER", HttpStatusCode.OK)]
    [InlineData("pair@example.org", HttpStatusCode.OK)]
    [InlineData("someone_else", HttpStatusCode.Unauthorized)]
    public async Task UserAndAuthTokenPair_UserMustBeTheSubject(string user, HttpStatusCode expected)
    {
        var tokens = await client.RegisterAndLoginAsync("pair@example.org", username: "pair_user");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        request.Headers.Add("User", user);
        request.Headers.Add("Auth-Token", tokens.AccessToken);

        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task TwoDifferentTokens_Return400()
    {
        var a = await client.RegisterAndLoginAsync("a@example.org");
        var b = await client.RegisterAndLoginAsync("b@example.org");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me").WithBearer(a.AccessToken);
        request.Headers.Add("ts-auth-token", b.AccessToken);

        using var response = await client.SendAsync(request);

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TheSameTokenInTwoHeaders_IsAccepted()
    {
        var a = await client.RegisterAndLoginAsync("same@example.org");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me").WithBearer(a.AccessToken);
        request.Headers.Add("ts-auth-token", a.AccessToken);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ForgedOrGarbageToken_Returns401NotServerError()
    {
        var tokens = await client.RegisterAndLoginAsync("forge@example.org");
        var parts = tokens.AccessToken.Split('.');

        foreach (var token in new[] { "garbage", parts[0] + "." + parts[1] + ".", parts[0] + "." + parts[1] + "x." + parts[2], new string('a', 20000) })
        {
            using var response = await client.GetWithTokenAsync("/api/v1/auth/me", token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}

/// <summary>CONTRACTS.md "Everywhere": RS256 by configuration.</summary>
public sealed class Rs256TokenTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public Rs256TokenTests() => factory.Settings["TokenServer:SigningAlgorithm"] = "RS256";

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task ConfiguredRs256_SignsWithAnRsaKey_PublishedWithoutPrivateParts()
    {
        var client = factory.CreateClient();
        var tokens = await client.RegisterAndLoginAsync("rsa@example.org");

        Assert.Equal("RS256", new JsonWebToken(tokens.AccessToken).Alg);
        var key = (await client.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json")).GetProperty("keys")[0];
        JsonAssert.HasExactly(key, "kty", "use", "alg", "kid", "n", "e");
        using var me = await client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }
}
