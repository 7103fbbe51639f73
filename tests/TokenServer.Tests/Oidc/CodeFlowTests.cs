using System.Net;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, OpenID Connect Core 1.0 §3.1),
/// single sign-on across clients, and RP-initiated logout, through HTTP as a browser and a client.
/// </summary>
public sealed class CodeFlowTests : IDisposable
{
    private const string Email = "reader@example.org";

    private readonly TokenServerFactory factory = new();
    private readonly HttpClient api;
    private readonly HttpClient browser;

    public CodeFlowTests()
    {
        api = factory.CreateClient();
        browser = factory.Browser();
    }

    public void Dispose() => factory.Dispose();

    private async Task<(string Secret, string AdminToken)> SetUpAsync(string clientId = "portal", bool firstParty = true)
    {
        var admin = await api.LoginAdminAsync();
        var client = await api.RegisterClientAsync(admin.AccessToken, clientId, firstParty: firstParty);
        await api.RegisterAsync(Email, fullName: "Rea Der", username: "reader");
        return (client.GetProperty("client_secret").GetString()!, admin.AccessToken);
    }

    private async Task<string> SignedInCodeAsync(string clientId, Pkce pkce, string scope = "openid profile email offline_access")
    {
        var first = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl(clientId, pkce, scope));
        Assert.Equal(OidcKit.RedirectUri, first.GetLeftPart(UriPartial.Path));
        return OidcKit.Query(first)["code"];
    }

    private async Task SignInAsync()
    {
        using var signIn = await browser.SignInAsync(Email);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
    }

    [Fact]
    public async Task CodeFlow_SignsIn_AndIssuesIdAccessAndRefreshTokens()
    {
        var (secret, _) = await SetUpAsync();
        var pkce = Pkce.Create();

        // Not signed in: the authorize endpoint sends the browser to the sign-in page.
        using var start = await browser.GetAsync(OidcKit.AuthorizeUrl("portal", pkce));
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        Assert.StartsWith("/signin?returnUrl=", start.Headers.Location!.OriginalString, StringComparison.Ordinal);

        await SignInAsync();
        var redirect = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("portal", pkce));
        var query = OidcKit.Query(redirect);
        Assert.Equal(["code", "iss", "state"], query.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("state-123", query["state"]);
        Assert.Equal("http://localhost:8000", query["iss"]);

        using var token = await api.RedeemAsync("portal", secret, query["code"], pkce.Verifier);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Contains("no-store", token.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var json = await token.ReadJsonAsync();
        JsonAssert.HasExactly(json, "access_token", "token_type", "expires_in", "refresh_token", "id_token", "scope");
        Assert.Equal("openid profile email offline_access", json.GetProperty("scope").GetString());

        var me = await (await api.GetWithTokenAsync("/api/v1/auth/me", json.GetProperty("access_token").GetString()!)).ReadJsonAsync();
        var id = OidcKit.Payload(json.GetProperty("id_token").GetString()!);
        Assert.Equal(me.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), id.GetProperty("sub").GetString());
        Assert.Equal("http://localhost:8000", id.GetProperty("iss").GetString());
        Assert.Equal("portal", id.GetProperty("aud").GetString());
        Assert.Equal("nonce-456", id.GetProperty("nonce").GetString());
        Assert.Equal("pwd", id.GetProperty("amr")[0].GetString());
        Assert.Equal(Email, id.GetProperty("email").GetString());
        Assert.Equal("Rea Der", id.GetProperty("name").GetString());
        foreach (var claim in new[] { "exp", "iat", "auth_time", "sid" })
        {
            Assert.True(id.TryGetProperty(claim, out _), claim);
        }

        var access = OidcKit.Payload(json.GetProperty("access_token").GetString()!);
        Assert.Equal("portal", access.GetProperty("client_id").GetString());
        Assert.Equal("openid profile email offline_access", access.GetProperty("scope").GetString());

        // Refresh: the existing rotation, for this client only.
        var refresh = json.GetProperty("refresh_token").GetString()!;
        using var stolen = await api.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh });
        Assert.Equal(HttpStatusCode.BadRequest, stolen.StatusCode);
        using var refreshed = await api.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = "portal", ["client_secret"] = secret });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var rotated = await refreshed.ReadJsonAsync();
        Assert.NotEqual(refresh, rotated.GetProperty("refresh_token").GetString());
        Assert.Equal("openid profile email offline_access", OidcKit.Payload(rotated.GetProperty("access_token").GetString()!).GetProperty("scope").GetString());
    }

    [Fact]
    public async Task UserInfo_ReturnsClaimsOfTheGrantedScopes()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("portal", pkce, "openid email");
        var tokens = await (await api.RedeemAsync("portal", secret, code, pkce.Verifier)).ReadJsonAsync();
        Assert.False(tokens.TryGetProperty("refresh_token", out _));

        using var response = await api.GetWithTokenAsync("/connect/userinfo", tokens.GetProperty("access_token").GetString()!);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "sub", "email", "email_verified");
        Assert.Equal(Email, json.GetProperty("email").GetString());
    }

    [Fact]
    public async Task SecondClient_IsSignedInWithoutPrompt_AndLogoutEndsBoth()
    {
        var (secret, adminToken) = await SetUpAsync();
        var other = (await api.RegisterClientAsync(adminToken, "archive")).GetProperty("client_secret").GetString()!;
        await SignInAsync();
        var pkce1 = Pkce.Create();
        var one = await (await api.RedeemAsync("portal", secret, await SignedInCodeAsync("portal", pkce1), pkce1.Verifier)).ReadJsonAsync();

        // Single sign-on: the second client's request answers at once, even with prompt=none.
        var pkce2 = Pkce.Create();
        var silent = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("archive", pkce2, prompt: "none"));
        var two = await (await api.RedeemAsync("archive", other, OidcKit.Query(silent)["code"], pkce2.Verifier)).ReadJsonAsync();
        Assert.Equal(OidcKit.Payload(one.GetProperty("id_token").GetString()!).GetProperty("sid").GetString(), OidcKit.Payload(two.GetProperty("id_token").GetString()!).GetProperty("sid").GetString());

        var hint = one.GetProperty("id_token").GetString()!;
        using var logout = await browser.GetAsync($"/connect/logout?id_token_hint={hint}&post_logout_redirect_uri={Uri.EscapeDataString(OidcKit.PostLogoutUri)}&state=bye");

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(OidcKit.PostLogoutUri + "?state=bye", logout.Headers.Location!.OriginalString);
        foreach (var tokens in new[] { one, two })
        {
            using var me = await api.GetWithTokenAsync("/api/v1/auth/me", tokens.GetProperty("access_token").GetString()!);
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }

        using var refresh = await api.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = two.GetProperty("refresh_token").GetString()!, ["client_id"] = "archive", ["client_secret"] = other });
        Assert.Equal(HttpStatusCode.BadRequest, refresh.StatusCode);

        // The browser is signed out too.
        var after = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("portal", Pkce.Create(), prompt: "none"));
        Assert.Equal("login_required", OidcKit.Query(after)["error"]);
    }

    [Fact]
    public async Task BrowserSession_IsListedAndRevocableLikeAnySession()
    {
        await SetUpAsync();
        await SignInAsync();
        var tokens = await api.LoginAsync(Email);

        var sessions = await (await api.GetWithTokenAsync("/api/v1/auth/sessions", tokens.AccessToken)).ReadJsonAsync();
        var browserSession = sessions.EnumerateArray().Single(s => s.GetProperty("dialect").GetString() == "browser");
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/sessions/{browserSession.GetProperty("id").GetString()}").WithBearer(tokens.AccessToken);
        using var deleted = await api.SendAsync(delete);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        var after = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("portal", Pkce.Create(), prompt: "none"));
        Assert.Equal("login_required", OidcKit.Query(after)["error"]);
    }

    [Fact]
    public async Task ThirdPartyClient_AsksConsentOnce()
    {
        await SetUpAsync("partner", firstParty: false);
        await SignInAsync();
        var pkce = Pkce.Create();

        using var start = await browser.GetAsync(OidcKit.AuthorizeUrl("partner", pkce));
        Assert.StartsWith("/consent?returnUrl=", start.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var none = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("partner", pkce, prompt: "none"));
        Assert.Equal("consent_required", OidcKit.Query(none)["error"]);

        var page = await browser.GetStringAsync(start.Headers.Location);
        Assert.Contains("App partner", page, StringComparison.Ordinal);
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(browser.BaseAddress!, start.Headers.Location).Query)["returnUrl"].ToString();
        using var allow = await browser.PostAsync("/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(page),
            ["ReturnUrl"] = returnUrl,
            ["decision"] = "allow",
        }));
        Assert.Equal(HttpStatusCode.Redirect, allow.StatusCode);

        var code = await browser.FollowToClientAsync(allow.Headers.Location!.OriginalString);
        Assert.True(OidcKit.Query(code).ContainsKey("code"));
        var again = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("partner", Pkce.Create(), prompt: "none"));
        Assert.True(OidcKit.Query(again).ContainsKey("code"));
    }

    [Fact]
    public async Task Consent_WithoutAntiforgeryToken_IsRefused()
    {
        await SetUpAsync("partner", firstParty: false);
        await SignInAsync();
        using var start = await browser.GetAsync(OidcKit.AuthorizeUrl("partner", Pkce.Create()));
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(browser.BaseAddress!, start.Headers.Location!).Query)["returnUrl"].ToString();

        using var forged = await browser.PostAsync("/consent", new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = returnUrl, ["decision"] = "allow" }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
    }

    [Fact]
    public async Task SignInPage_WrongPassword_ShowsOneMessageAnd401()
    {
        await SetUpAsync();

        using var wrong = await browser.SignInAsync(Email, "not-the-password-1");
        using var unknown = await browser.SignInAsync("nobody@example.org", "not-the-password-1");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var a = await wrong.Content.ReadAsStringAsync();
        var b = await unknown.Content.ReadAsStringAsync();
        Assert.Contains(TokenServer.Pages.SignInModel.FailureMessage, a, StringComparison.Ordinal);
        Assert.Contains(TokenServer.Pages.SignInModel.FailureMessage, b, StringComparison.Ordinal);
        Assert.Equal("frame-ancestors 'none'", wrong.Headers.GetValues("Content-Security-Policy").Single().Split("; ").Last());
    }

    [Fact]
    public async Task Cookie_IsHttpOnlySameSiteLaxAndSecureOverHttps()
    {
        await SetUpAsync();

        using var signIn = await browser.SignInAsync(Email);

        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("tokenserver.session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    // Every error path of the authorization request and the code redemption.

    [Fact]
    public async Task MissingPkce_IsRedirectedAsInvalidRequest_WithStateAndIss()
    {
        await SetUpAsync();
        var url = OidcKit.AuthorizeUrl("portal", Pkce.Create()).Replace("&code_challenge_method=S256", "", StringComparison.Ordinal);

        var redirect = await browser.FollowToClientAsync(url);

        var query = OidcKit.Query(redirect);
        Assert.Equal(["error", "error_description", "iss", "state"], query.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("invalid_request", query["error"]);
        Assert.Equal("state-123", query["state"]);
        Assert.Equal("http://localhost:8000", query["iss"]);
    }

    [Fact]
    public async Task PlainPkce_IsRefused()
    {
        await SetUpAsync();
        var url = OidcKit.AuthorizeUrl("portal", Pkce.Create()).Replace("code_challenge_method=S256", "code_challenge_method=plain", StringComparison.Ordinal);

        var redirect = await browser.FollowToClientAsync(url);

        Assert.Equal("invalid_request", OidcKit.Query(redirect)["error"]);
    }

    [Theory]
    [InlineData("unknown-client", OidcKit.RedirectUri, "unknown_client")]
    [InlineData("portal", "https://evil.example.org/callback", "redirect_uri")]
    [InlineData("portal", OidcKit.RedirectUri + "/extra", "redirect_uri")]
    public async Task UnknownClientOrMismatchedRedirect_ShowsErrorPage_AndNeverRedirectsAway(string clientId, string redirectUri, string code)
    {
        await SetUpAsync();

        using var response = await browser.GetAsync(OidcKit.AuthorizeUrl(clientId, Pkce.Create(), redirectUri: redirectUri));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/error?code={code}", response.Headers.Location!.OriginalString);
        using var page = await browser.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PromptNone_WithoutSession_RedirectsLoginRequired()
    {
        await SetUpAsync();

        var redirect = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("portal", Pkce.Create(), prompt: "none"));

        var query = OidcKit.Query(redirect);
        Assert.Equal("login_required", query["error"]);
        Assert.Equal("state-123", query["state"]);
    }

    [Fact]
    public async Task PromptLogin_AsksForThePasswordAgain()
    {
        await SetUpAsync();
        await SignInAsync();

        using var response = await browser.GetAsync(OidcKit.AuthorizeUrl("portal", Pkce.Create(), prompt: "login"));

        Assert.StartsWith("/signin?", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongVerifier_IsInvalidGrant()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var code = await SignedInCodeAsync("portal", Pkce.Create());

        using var response = await api.RedeemAsync("portal", secret, code, Pkce.Create().Verifier);

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task MissingVerifier_IsInvalidRequest()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var code = await SignedInCodeAsync("portal", Pkce.Create());

        using var response = await api.RedeemAsync("portal", secret, code, "");

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task WrongClientSecret_IsInvalidClient401()
    {
        await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("portal", pkce);

        using var response = await api.RedeemAsync("portal", "wrong-secret", code, pkce.Verifier);

        await AssertOAuthErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MismatchedRedirectAtTokenEndpoint_IsInvalidGrant()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("portal", pkce);

        using var response = await api.RedeemAsync("portal", secret, code, pkce.Verifier, "https://app.example.org/other");

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task ReusedCode_IsRefused_AndRevokesWhatTheFirstUseIssued()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("portal", pkce);
        var first = await (await api.RedeemAsync("portal", secret, code, pkce.Verifier)).ReadJsonAsync();

        using var second = await api.RedeemAsync("portal", secret, code, pkce.Verifier);

        await AssertOAuthErrorAsync(second, HttpStatusCode.BadRequest, "invalid_grant");
        using var me = await api.GetWithTokenAsync("/api/v1/auth/me", first.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task ConcurrentRedemptions_OfOneCode_OneGetsTokens_AndTheReuseRevokesThem()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("portal", pkce);

        // Eight at once: they reach the store together (on SQLite, often in one group commit).
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.RedeemAsync("portal", secret, code, pkce.Verifier)));

        var won = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        foreach (var lost in answers.Where(a => a != won))
        {
            await AssertOAuthErrorAsync(lost, HttpStatusCode.BadRequest, "invalid_grant");
        }

        // The losers are reuses, which revoke what the code issued (RFC 6749 §4.1.2).
        var tokens = await won.ReadJsonAsync();
        using var me = await api.GetWithTokenAsync("/api/v1/auth/me", tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var refreshed = await api.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = "portal",
            ["client_secret"] = secret,
        });
        Assert.Equal(HttpStatusCode.BadRequest, refreshed.StatusCode);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task ExpiredCode_IsInvalidGrant_At60Seconds()
    {
        var (secret, _) = await SetUpAsync();
        await SignInAsync();
        var pkce = Pkce.Create();
        var late = await SignedInCodeAsync("portal", pkce);
        var pkceOnTime = Pkce.Create();
        var onTime = await SignedInCodeAsync("portal", pkceOnTime);

        factory.Time.Advance(TimeSpan.FromSeconds(59));
        using var ok = await api.RedeemAsync("portal", secret, onTime, pkceOnTime.Verifier);
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var expired = await api.RedeemAsync("portal", secret, late, pkce.Verifier);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await AssertOAuthErrorAsync(expired, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task PublicClient_RedeemsWithoutSecret_ButNotWithOne()
    {
        var admin = await api.LoginAdminAsync();
        await api.RegisterClientAsync(admin.AccessToken, "spa", type: "public");
        await api.RegisterAsync(Email);
        await SignInAsync();
        var pkce = Pkce.Create();
        var code = await SignedInCodeAsync("spa", pkce);

        using var withSecret = await api.RedeemAsync("spa", "made-up", code, pkce.Verifier);
        using var response = await api.RedeemAsync("spa", null, code, pkce.Verifier);

        await AssertOAuthErrorAsync(withSecret, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Discovery_ListsTheProvider()
    {
        var json = await (await api.GetAsync("/.well-known/openid-configuration")).ReadJsonAsync();

        Assert.Equal("http://localhost:8000/connect/authorize", json.GetProperty("authorization_endpoint").GetString());
        Assert.Equal("http://localhost:8000/api/v1/auth/token", json.GetProperty("token_endpoint").GetString());
        Assert.Equal("http://localhost:8000/connect/userinfo", json.GetProperty("userinfo_endpoint").GetString());
        Assert.Equal("http://localhost:8000/connect/logout", json.GetProperty("end_session_endpoint").GetString());
        Assert.Equal(["S256"], Strings(json, "code_challenge_methods_supported"));
        Assert.Equal(["code"], Strings(json, "response_types_supported"));
        Assert.True(json.GetProperty("authorization_response_iss_parameter_supported").GetBoolean());
        Assert.Subset(Strings(json, "grant_types_supported").ToHashSet(), new HashSet<string> { "authorization_code", "refresh_token", "client_credentials", "password" });
        Assert.Subset(Strings(json, "scopes_supported").ToHashSet(), new HashSet<string> { "openid", "profile", "email", "offline_access" });
        Assert.Contains("ES256", Strings(json, "id_token_signing_alg_values_supported"));
        Assert.Contains("auth_time", Strings(json, "claims_supported"));
    }

    private static string[] Strings(JsonElement json, string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static async Task AssertOAuthErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        Assert.Equal(status, response.StatusCode);
        var json = await response.ReadJsonAsync();
        JsonAssert.HasExactly(json, "error", "error_description");
        Assert.Equal(error, json.GetProperty("error").GetString());
    }
}
