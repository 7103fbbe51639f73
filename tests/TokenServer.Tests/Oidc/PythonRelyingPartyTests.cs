using System.Globalization;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// docs/oidc.md's Python app (Authlib's Flask client, tests/rp-python runs the snippet as written)
/// signs in against a real TokenServer; the test plays the browser with the server's sign-in form.
/// </summary>
public sealed class PythonRelyingPartyTests
{
    private const string Email = "python-user@example.org";
    private const string RedirectUri = "http://localhost/callback";

    [PythonFact]
    public async Task AuthlibDocsSnippet_SignsUserIn()
    {
        var (factory, address) = RealServer.StartKestrel();
        await using var _ = factory;
        using var api = new HttpClient { BaseAddress = address };
        var admin = await api.LoginAdminAsync();
        var secret = (await api.RegisterClientAsync(admin.AccessToken, "portal", redirectUris: [RedirectUri])).GetProperty("client_secret").GetString()!;
        var nativeSub = (await api.RegisterAsync(Email)).GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);

        var issuer = address.ToString().TrimEnd('/');
        await using var rp = RelyingPartyProcess.PythonApp(
            new Dictionary<string, string>
            {
                ["PORTAL_SECRET"] = secret,
                ["SESSION_SECRET"] = "test-session-secret",
                // Authlib refuses a plain-HTTP token endpoint unless told; the test server is HTTP on loopback.
                ["AUTHLIB_INSECURE_TRANSPORT"] = "1",
            },
            SourceTree.Path("docs", "oidc.md"),
            issuer);
        var authorizationUrl = new Uri((await rp.ReadAsync()).GetProperty("authorization_url").GetString()!);
        var request = OidcKit.Query(authorizationUrl);
        Assert.Equal("S256", request["code_challenge_method"]);
        Assert.True(request.ContainsKey("nonce"));

        var callback = await OidcKit.SignInThroughAsync(address, authorizationUrl, Email);
        Assert.Equal(RedirectUri, callback.GetLeftPart(UriPartial.Path));

        await rp.WriteAsync(callback.ToString());
        var result = await rp.ReadAsync();
        Assert.Equal(302, result.GetProperty("status").GetInt32());
        var user = result.GetProperty("user");
        Assert.Equal(nativeSub, user.GetProperty("sub").GetString());
        Assert.Equal(Email, user.GetProperty("email").GetString());
        Assert.Equal(issuer, user.GetProperty("iss").GetString());
        Assert.Equal("portal", user.GetProperty("aud").GetString());
    }
}
