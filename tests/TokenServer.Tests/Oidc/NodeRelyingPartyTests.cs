using System.Globalization;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// An OpenID Certified relying-party library (openid-client, tests/rp-node) signs in against a
/// real TokenServer unchanged: discovery, code flow with PKCE, ID-token validation, userinfo and
/// refresh. The test plays the browser with the server's own sign-in form.
/// </summary>
public sealed class NodeRelyingPartyTests
{
    private const string Email = "node-user@example.org";

    [NodeFact]
    public async Task OpenIdClient_CompletesCodeFlow_UserInfo_AndRefresh()
    {
        var (factory, address) = RealServer.StartKestrel();
        await using var _ = factory;
        using var api = new HttpClient { BaseAddress = address };
        var admin = await api.LoginAdminAsync();
        var secret = (await api.RegisterClientAsync(admin.AccessToken, "node-app")).GetProperty("client_secret").GetString()!;
        var registered = await api.RegisterAsync(Email);
        var nativeSub = registered.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);

        var issuer = address.ToString().TrimEnd('/');
        await using var rp = await RelyingPartyProcess.NodeAsync(issuer, "node-app", secret, OidcKit.RedirectUri);
        var authorizationUrl = new Uri((await rp.ReadAsync()).GetProperty("authorization_url").GetString()!);
        Assert.StartsWith(issuer + "/connect/authorize?", authorizationUrl.ToString(), StringComparison.Ordinal);
        var request = OidcKit.Query(authorizationUrl);
        Assert.Equal("S256", request["code_challenge_method"]);

        // The browser: sent to the sign-in page, signs in, comes back to /authorize, is redirected to the app.
        var callback = await OidcKit.SignInThroughAsync(address, authorizationUrl, Email);
        Assert.StartsWith(OidcKit.RedirectUri + "?", callback.ToString(), StringComparison.Ordinal);

        await rp.WriteAsync(callback.ToString());
        var result = await rp.ReadAsync();
        Assert.Equal(issuer, result.GetProperty("issuer").GetString());
        var claims = result.GetProperty("id_token_claims");
        Assert.Equal(nativeSub, claims.GetProperty("sub").GetString());
        Assert.Equal(issuer, claims.GetProperty("iss").GetString());
        Assert.Equal("node-app", claims.GetProperty("aud").GetString());
        Assert.Equal(request["nonce"], claims.GetProperty("nonce").GetString());
        Assert.Equal(nativeSub, result.GetProperty("userinfo").GetProperty("sub").GetString());
        Assert.Equal(Email, result.GetProperty("userinfo").GetProperty("email").GetString());
        Assert.Equal("bearer", result.GetProperty("token_type").GetString(), ignoreCase: true);
        Assert.Equal("openid profile email offline_access", result.GetProperty("scope").GetString());
        var refreshed = result.GetProperty("refreshed");
        Assert.True(refreshed.GetProperty("access_token_changed").GetBoolean());
        Assert.True(refreshed.GetProperty("refresh_token_changed").GetBoolean());
    }
}
