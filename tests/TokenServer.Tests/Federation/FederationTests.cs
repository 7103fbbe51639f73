using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Federation;

/// <summary>
/// Sign-in through an upstream OpenID provider (another real TokenServer), driven over HTTP as a
/// browser without JavaScript would: the sign-in page's button, the provider's password page, the
/// callback, and the account decision (docs/federation.md).
/// </summary>
public sealed class FederationTests
{
    private const string Person = "grace@uni.example.org";
    private const string App = "notebook";

    private static async Task SignUpstreamAsync(FederationRig rig, string email = Person, string name = "Grace Hopper")
    {
        await rig.UpstreamApi.RegisterAsync(email, fullName: name);
    }

    /// <summary>From the downstream's sign-in page through the upstream's password page; returns the redirect <paramref name="stopAt"/> caught, if any.</summary>
    internal static async Task<Uri?> SignInThroughUpstreamAsync(FederationRig rig, UserAgent agent, string email = Person, string returnUrl = "/account", Func<Uri, bool>? stopAt = null)
    {
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/signin?returnUrl=" + Uri.EscapeDataString(returnUrl)));
        Assert.Contains(FederationRig.DisplayName, agent.Html, StringComparison.Ordinal);
        var caught = await agent.ClickProviderAsync(FederationRig.ProviderName, stopAt);
        if (caught is not null)
        {
            return caught;
        }

        Assert.Equal(rig.UpstreamAddress.Authority, agent.Url.Authority);
        return await agent.SubmitAsync(null, new() { ["Login"] = email, ["Password"] = Api.Password }, stopAt);
    }

    /// <summary>The downstream's code flow for its client <see cref="App"/>, signing in through the upstream when asked: the tokens the app gets.</summary>
    private static async Task<JsonElement> AppTokensAsync(FederationRig rig, UserAgent agent, string email = Person)
    {
        var (authorize, verifier) = AppAuthorizeRequest(rig.DownstreamAddress, App);
        var back = await agent.GoAsync(authorize, AtApp);
        if (back is null)
        {
            // Not signed in at the downstream: its sign-in page, whose provider button keeps the authorization request.
            var returnUrl = QueryHelpers.ParseQuery(agent.Url.Query)["returnUrl"].ToString();
            Assert.StartsWith("/connect/authorize?", returnUrl, StringComparison.Ordinal);
            back = await agent.ClickProviderAsync(FederationRig.ProviderName, AtApp)
                ?? await agent.SubmitAsync(null, new() { ["Login"] = email, ["Password"] = Api.Password }, AtApp);
        }

        return await RedeemAsync(rig.DownstreamApi, App, back, verifier);
    }

    internal static bool AtApp(Uri u) => u.ToString().StartsWith(FederationRig.AppRedirectUri, StringComparison.Ordinal);

    /// <summary>An app's authorization request (code flow with PKCE) at <paramref name="downstream"/>, and its code verifier.</summary>
    internal static (Uri Authorize, string Verifier) AppAuthorizeRequest(Uri downstream, string clientId)
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var authorize = QueryHelpers.AddQueryString(new Uri(downstream, "/connect/authorize").ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = FederationRig.AppRedirectUri,
            ["scope"] = "openid profile email",
            ["state"] = "app-state",
            ["nonce"] = "app-nonce",
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
        });
        return (new Uri(authorize), verifier);
    }

    /// <summary>The app's token request with the code in <paramref name="back"/> (the redirect to the app): its tokens.</summary>
    internal static async Task<JsonElement> RedeemAsync(HttpClient downstreamApi, string clientId, Uri? back, string verifier)
    {
        Assert.NotNull(back);
        var code = QueryHelpers.ParseQuery(back.Query)["code"].ToString();
        using var response = await downstreamApi.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = FederationRig.AppRedirectUri,
            ["client_id"] = clientId,
            ["code_verifier"] = verifier,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    internal static JsonElement Claims(JsonElement tokens) =>
        JsonDocument.Parse(Base64UrlEncoder.Decode(tokens.GetProperty("id_token").GetString()!.Split('.')[1])).RootElement.Clone();

    [Fact]
    public async Task FirstSignIn_CreatesAccountWithoutPassword_SecondGivesSameSub_AndIdTokenSaysFed()
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.RegisterDownstreamClientAsync(App);
        await SignUpstreamAsync(rig);

        using var first = new UserAgent();
        var firstTokens = await AppTokensAsync(rig, first);
        var claims = Claims(firstTokens);
        Assert.Equal(Person, claims.GetProperty("email").GetString());
        Assert.Equal("Grace Hopper", claims.GetProperty("name").GetString());
        Assert.Equal(["fed", "pwd"], claims.GetProperty("amr").EnumerateArray().Select(a => a.GetString()!).ToArray());

        // The upstream registered the address without verifying it, so it is not verified here either.
        Assert.False(claims.GetProperty("email_verified").GetBoolean());

        // A new browser, the same upstream person: the same account.
        using var second = new UserAgent();
        var again = Claims(await AppTokensAsync(rig, second));
        Assert.Equal(claims.GetProperty("sub").GetString(), again.GetProperty("sub").GetString());

        // The account has no password: a password login fails as for a wrong password.
        using var login = await rig.DownstreamApi.PostAsJsonAsync("/api/v1/auth/login", new { email = Person, password = Api.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);

        // Its linked identities, over the API with the app's access token.
        using var list = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/auth/identities", firstTokens.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var link = Assert.Single((await list.ReadJsonAsync()).EnumerateArray());
        JsonAssert.HasExactly(link, "provider", "display_name", "issuer", "subject", "created_at", "last_used_at");
        Assert.Equal(FederationRig.ProviderName, link.GetProperty("provider").GetString());
        Assert.Equal(FederationRig.DisplayName, link.GetProperty("display_name").GetString());
        Assert.Equal(rig.UpstreamIssuer, link.GetProperty("issuer").GetString());

        // Audited: the link and both sign-ins.
        var admin = await rig.DownstreamApi.LoginAdminAsync();
        using var audit = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/admin/audit?page_size=100", admin.AccessToken);
        var types = (await audit.ReadJsonAsync()).GetProperty("results").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(1, types.Count(t => t == "federation.linked"));
        Assert.Equal(2, types.Count(t => t == "federation.signed_in"));
    }

    [Fact]
    public async Task UpstreamSignIn_OfAnAccountWithMfaOn_AsksForItsCode_BeforeAnySession()
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.DownstreamApi.RegisterAsync(Person, fullName: "Local Grace");
        await SignUpstreamAsync(rig);
        using (var linking = new UserAgent())
        {
            await SignInThroughUpstreamAsync(rig, linking);
            await linking.SubmitAsync(null, new() { ["Password"] = Api.Password });
            Assert.Contains("Signed in as", linking.Html, StringComparison.Ordinal);
        }

        // MFA turned on after the link.
        var local = await rig.DownstreamApi.LoginAsync(Person);
        string secret;
        using (var enrol = await rig.DownstreamApi.PostJsonWithTokenAsync("/api/v1/auth/mfa/totp", new { }, local.AccessToken))
        {
            secret = (await enrol.ReadJsonAsync()).GetProperty("secret").GetString()!;
        }

        string Code() => new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(secret)).ComputeTotp(DateTime.UtcNow);
        using (var confirmed = await rig.DownstreamApi.PostJsonWithTokenAsync("/api/v1/auth/mfa/totp/confirm", new { code = Code() }, local.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        }

        // The upstream sign-in alone starts no session: the sign-in page asks for the code.
        using var agent = new UserAgent();
        await SignInThroughUpstreamAsync(rig, agent);
        Assert.Equal("/signin", agent.Url.AbsolutePath);
        Assert.Contains("Enter your sign-in code", agent.Html, StringComparison.Ordinal);
        await agent.SubmitAsync(null, new() { ["Code"] = "000000" == Code() ? "111111" : "000000" });
        Assert.Equal(HttpStatusCode.Unauthorized, agent.Status);
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/account"));
        Assert.Equal("/signin", agent.Url.AbsolutePath);

        // The code page is gone with the navigation; a new upstream sign-in (the upstream remembers
        // its user) asks again, and the right code signs in.
        await agent.ClickProviderAsync(FederationRig.ProviderName);
        Assert.Contains("Enter your sign-in code", agent.Html, StringComparison.Ordinal);
        // (The next time step's code: the server accepts one step of drift, and the confirming
        // code's step is spent, RFC 6238 §5.2.)
        var next = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(secret)).ComputeTotp(DateTime.UtcNow.AddSeconds(30));
        await agent.SubmitAsync(null, new() { ["Code"] = next });
        Assert.Equal("/account", agent.Url.AbsolutePath);
        Assert.Contains("Signed in as", agent.Html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EmailOfAnExistingAccount_IsNeverLinkedWithoutItsPassword(bool upstreamVerified)
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.DownstreamApi.RegisterAsync(Person, fullName: "Local Grace");
        await SignUpstreamAsync(rig);
        if (upstreamVerified)
        {
            await rig.ChangeUpstreamAccountAsync(Person, a => a.EmailVerifiedAt = DateTimeOffset.UtcNow);
        }

        using var agent = new UserAgent();
        await SignInThroughUpstreamAsync(rig, agent);

        // Not signed in: the link page asks for the existing account's password.
        Assert.Equal("/signin/link", agent.Url.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, agent.Status);
        Assert.Contains("password once to link it", agent.Html, StringComparison.Ordinal);
        Assert.Equal(!upstreamVerified, agent.Html.Contains("has not confirmed that this address is yours", StringComparison.Ordinal));
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/account"));
        Assert.Equal("/signin", agent.Url.AbsolutePath); // the account page sends a visitor who is not signed in to sign in

        // A wrong password links nothing.
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/signin/link"));
        await agent.SubmitAsync(null, new() { ["Password"] = "not-the-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, agent.Status);
        var local = await rig.DownstreamApi.LoginAsync(Person);
        using (var none = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/auth/identities", local.AccessToken))
        {
            Assert.Equal(0, (await none.ReadJsonAsync()).GetArrayLength());
        }

        // The right one links and signs in.
        await agent.SubmitAsync(null, new() { ["Password"] = Api.Password });
        Assert.Equal("/account", agent.Url.AbsolutePath);
        Assert.Contains("Signed in as", agent.Html, StringComparison.Ordinal);
        using var linked = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/auth/identities", local.AccessToken);
        Assert.Equal(FederationRig.ProviderName, Assert.Single((await linked.ReadJsonAsync()).EnumerateArray()).GetProperty("provider").GetString());
    }

    [Fact]
    public async Task SignedInBrowser_LinksFromTheAccountPage_AndUnlinkIsRefusedOnlyForTheLastWayIn()
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.RegisterDownstreamClientAsync(App);
        await SignUpstreamAsync(rig, "other-address@uni.example.org");
        await rig.DownstreamApi.RegisterAsync(Person);

        // Signed in with the password, the person links the upstream identity (another address) from the account page.
        using var agent = new UserAgent();
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/signin?returnUrl=%2Faccount%2Fidentities"));
        await agent.SubmitAsync(null, new() { ["Login"] = Person, ["Password"] = Api.Password });
        Assert.Equal("/account/identities", agent.Url.AbsolutePath);
        Assert.Contains($"Link {FederationRig.DisplayName}", agent.Html, StringComparison.Ordinal);
        await agent.SubmitAsync($"/signin/{FederationRig.ProviderName}", []);
        await agent.SubmitAsync(null, new() { ["Login"] = "other-address@uni.example.org", ["Password"] = Api.Password });
        Assert.Equal("/account/identities", agent.Url.AbsolutePath);
        Assert.Contains($"{FederationRig.DisplayName}, linked", agent.Html, StringComparison.Ordinal);

        // The account has a password, so unlinking is allowed.
        var tokens = await rig.DownstreamApi.LoginAsync(Person);
        using (var unlink = await rig.DownstreamApi.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/identities/{FederationRig.ProviderName}").WithBearer(tokens.AccessToken)))
        {
            Assert.Equal(HttpStatusCode.NoContent, unlink.StatusCode);
        }

        using (var gone = await rig.DownstreamApi.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/identities/{FederationRig.ProviderName}").WithBearer(tokens.AccessToken)))
        {
            JsonAssert.IsProblem(gone, HttpStatusCode.NotFound);
        }

        // An account made by the upstream sign-in has no password: its only link cannot go.
        using var newcomer = new UserAgent();
        var federated = await AppTokensAsync(rig, newcomer, "other-address@uni.example.org");
        using var refused = await rig.DownstreamApi.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/auth/identities/{FederationRig.ProviderName}").WithBearer(federated.GetProperty("access_token").GetString()!));
        JsonAssert.IsProblem(refused, HttpStatusCode.Conflict);
        Assert.Contains("only way to sign in", (await refused.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The page's button says the same.
        await newcomer.GoAsync(new Uri(rig.DownstreamAddress, "/account/identities"));
        await newcomer.SubmitAsync("/account/identities?handler=unlink", []);
        Assert.Contains("This is the only way to sign in to your account", newcomer.Html, StringComparison.Ordinal);
        Assert.Contains($"{FederationRig.DisplayName}, linked", newcomer.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClaimMapping_GrantsMembershipAtSignIn_AndTakesItAwayWhenTheClaimNoLongerGrantsIt()
    {
        await using var rig = await FederationRig.StartAsync(new()
        {
            // The upstream test provider sends only standard claims, so the mapping reads "name";
            // eduperson_entitlement works the same way (each value of an array claim is compared).
            ["TokenServer:ExternalProviders:upstream:ClaimMappings:0:Claim"] = "name",
            ["TokenServer:ExternalProviders:upstream:ClaimMappings:0:Value"] = "Grace Hopper",
            ["TokenServer:ExternalProviders:upstream:ClaimMappings:0:Organization"] = "lab",
            ["TokenServer:ExternalProviders:upstream:ClaimMappings:0:Role"] = "admin",
        });
        await rig.RegisterDownstreamClientAsync(App);
        var admin = await rig.DownstreamApi.LoginAdminAsync();
        foreach (var slug in new[] { "lab", "library" })
        {
            using var created = await rig.DownstreamApi.PostJsonWithTokenAsync("/api/v1/admin/organizations", new { slug, name = slug }, admin.AccessToken);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await SignUpstreamAsync(rig);
        using var first = new UserAgent();
        var tokens = await AppTokensAsync(rig, first);
        Assert.Equal([("lab", "admin")], await MembershipsAsync(rig, tokens));

        // A membership given by hand is not the mapping's to take away.
        using (var added = await rig.DownstreamApi.PostJsonWithTokenAsync("/api/v1/organizations/library/members", new { email = Person, role = "member" }, admin.AccessToken))
        {
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        }

        await rig.ChangeUpstreamAccountAsync(Person, a => a.FullName = "Grace B. Hopper");
        using var second = new UserAgent();
        var after = await AppTokensAsync(rig, second);
        Assert.Equal([("library", "member")], await MembershipsAsync(rig, after));
    }

    private static async Task<List<(string, string)>> MembershipsAsync(FederationRig rig, JsonElement tokens)
    {
        using var me = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/auth/me", tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var json = await me.ReadJsonAsync();
        return [.. json.GetProperty("organizations").EnumerateArray().Select(o => (o.GetProperty("slug").GetString()!, o.GetProperty("role").GetString()!)).Order()];
    }

    [Fact]
    public async Task Callback_WithWrongOrMissingIss_IsRefusedBeforeTheCodeIsRedeemed()
    {
        await using var rig = await FederationRig.StartAsync();
        await SignUpstreamAsync(rig);
        using var agent = new UserAgent();
        var callback = await SignInThroughUpstreamAsync(rig, agent, stopAt: u => u.AbsolutePath == $"/signin/{FederationRig.ProviderName}/callback");
        Assert.NotNull(callback);
        var query = QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal(rig.UpstreamIssuer, query["iss"].ToString());

        foreach (var iss in new[] { "http://mix-up.example.org", null })
        {
            var tampered = query.Where(p => p.Key != "iss").ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
            if (iss is not null)
            {
                tampered["iss"] = iss;
            }

            await agent.GoAsync(new Uri(QueryHelpers.AddQueryString(callback.GetLeftPart(UriPartial.Path), tampered)));
            Assert.Equal("/signin", agent.Url.AbsolutePath);
            Assert.Contains($"{FederationRig.DisplayName} did not complete the sign-in", agent.Html, StringComparison.Ordinal);
        }

        // The untouched response still signs in: only iss made the difference.
        await agent.GoAsync(callback);
        Assert.Equal("/account", agent.Url.AbsolutePath);
        Assert.Contains("Signed in as", agent.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_WithUnknownState_IsRefused()
    {
        await using var rig = await FederationRig.StartAsync();
        using var agent = new UserAgent();
        await agent.GoAsync(new Uri(rig.DownstreamAddress, $"/signin/{FederationRig.ProviderName}/callback?code=abc&state=forged&iss={Uri.EscapeDataString(rig.UpstreamIssuer)}"));
        Assert.Equal("/signin", agent.Url.AbsolutePath);
        Assert.Contains($"{FederationRig.DisplayName} did not complete the sign-in", agent.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_WhoseIdTokenCarriesAnotherNonce_IsRefused()
    {
        await using var rig = await FederationRig.StartAsync();
        await SignUpstreamAsync(rig);
        using var agent = new UserAgent();
        var authorize = await SignInThroughUpstreamAsync(rig, agent, stopAt: u => u.AbsolutePath == "/connect/authorize");
        Assert.NotNull(authorize);
        var query = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["state"]));
        query["nonce"] = "a-nonce-this-browser-never-got";

        await agent.GoAsync(new Uri(QueryHelpers.AddQueryString(authorize.GetLeftPart(UriPartial.Path), query)));
        await agent.SubmitAsync(null, new() { ["Login"] = Person, ["Password"] = Api.Password });

        Assert.Equal("/signin", agent.Url.AbsolutePath);
        Assert.Contains($"{FederationRig.DisplayName} did not complete the sign-in", agent.Html, StringComparison.Ordinal);
        await agent.GoAsync(new Uri(rig.DownstreamAddress, "/account"));
        Assert.Equal("/signin", agent.Url.AbsolutePath); // the account page sends a visitor who is not signed in to sign in
    }

    [Fact]
    public async Task ConcurrentFirstSignIns_OfTheSamePerson_BothSignInToOneAccount()
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.RegisterDownstreamClientAsync(App);
        static bool AtCallback(Uri u) => u.AbsolutePath == $"/signin/{FederationRig.ProviderName}/callback";

        // Whether the two callbacks overlap at the account decision depends on the scheduler, so
        // the test plays several rounds (each a new upstream person); a round without overlap
        // proves nothing but passes, a round with it fails unless both browsers end signed in to
        // the one account.
        for (var round = 0; round < 5; round++)
        {
            var email = $"twin{round}@uni.example.org";
            await SignUpstreamAsync(rig, email);
            using var first = new UserAgent();
            using var second = new UserAgent();
            var callbacks = new List<Uri>();
            foreach (var agent in new[] { first, second })
            {
                var callback = await SignInThroughUpstreamAsync(rig, agent, email, stopAt: AtCallback);
                Assert.NotNull(callback);
                callbacks.Add(callback);
            }

            await Task.WhenAll(first.GoAsync(callbacks[0]), second.GoAsync(callbacks[1]));

            foreach (var agent in new[] { first, second })
            {
                Assert.Equal("/account", agent.Url.AbsolutePath);
                Assert.Contains("Signed in as", agent.Html, StringComparison.Ordinal);
            }

            var subjects = new[]
            {
                Claims(await AppTokensAsync(rig, first, email)).GetProperty("sub").GetString(),
                Claims(await AppTokensAsync(rig, second, email)).GetProperty("sub").GetString(),
            };
            Assert.Equal(subjects[0], subjects[1]);
            using var scope = rig.Downstream.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var normalized = email.ToUpperInvariant();
            Assert.Equal(1, await db.Accounts.CountAsync(a => a.NormalizedEmail == normalized));
        }
    }

    [Fact]
    public async Task DeviceApproved_OnABrowserSignedInUpstream_GetsAnIdTokenWhoseAmrSaysFed()
    {
        await using var rig = await FederationRig.StartAsync();
        await SignUpstreamAsync(rig);

        // The person opens the verification URI, signs in through the upstream and allows the device.
        using var agent = new UserAgent();
        var claims = await DeviceIdTokenAsync(rig.DownstreamApi, agent, page => SignInThroughUpstreamAsync(rig, agent, returnUrl: page.PathAndQuery));
        Assert.Equal(Person, claims.GetProperty("email").GetString());
        Assert.Equal(["fed", "pwd"], claims.GetProperty("amr").EnumerateArray().Select(a => a.GetString()!).ToArray());
    }

    /// <summary>
    /// The device flow (RFC 8628) of a new command-line client at the downstream: <paramref name="open"/>
    /// brings <paramref name="agent"/> from the verification URI to the device page, where it allows
    /// the device; the claims of the ID token the client's poll gets.
    /// </summary>
    internal static async Task<JsonElement> DeviceIdTokenAsync(HttpClient downstreamApi, UserAgent agent, Func<Uri, Task> open)
    {
        var admin = await downstreamApi.LoginAdminAsync();
        using (var created = await downstreamApi.PostJsonWithTokenAsync("/api/v1/admin/clients", new
        {
            client_id = "cli",
            name = "Command line",
            type = "public",
            grant_types = new[] { DeviceGrant },
            scopes = new[] { "openid", "email" },
            first_party = true,
        }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var started = await downstreamApi.PostFormAsync("/connect/device_authorization", new Dictionary<string, string> { ["client_id"] = "cli", ["scope"] = "openid email" });
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var start = await started.ReadJsonAsync();

        await open(new Uri(start.GetProperty("verification_uri_complete").GetString()!));
        Assert.Equal("/device", agent.Url.AbsolutePath);
        Assert.Contains("Allow Command line?", agent.Html, StringComparison.Ordinal);
        await agent.SubmitAsync(null, new() { ["decision"] = "allow" });
        Assert.Equal(HttpStatusCode.OK, agent.Status);

        using var poll = await downstreamApi.PostFormAsync("/api/v1/auth/token", new Dictionary<string, string>
        {
            ["grant_type"] = DeviceGrant,
            ["device_code"] = start.GetProperty("device_code").GetString()!,
            ["client_id"] = "cli",
        });
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        return Claims(await poll.ReadJsonAsync());
    }

    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    [Fact]
    public async Task AdminProviders_ListsEachProviderWithItsRedirectUri_ForAdminsOnly()
    {
        await using var rig = await FederationRig.StartAsync();
        var admin = await rig.DownstreamApi.LoginAdminAsync();
        using var response = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/admin/providers", admin.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var provider = Assert.Single((await response.ReadJsonAsync()).EnumerateArray());
        JsonAssert.HasExactly(provider, "name", "display_name", "authority", "scopes", "redirect_uri");
        Assert.Equal(FederationRig.ProviderName, provider.GetProperty("name").GetString());
        Assert.Equal(FederationRig.DisplayName, provider.GetProperty("display_name").GetString());
        Assert.Equal(rig.UpstreamIssuer, provider.GetProperty("authority").GetString());
        Assert.Equal(["openid", "profile", "email"], provider.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.Equal($"{rig.DownstreamIssuer}/signin/upstream/callback", provider.GetProperty("redirect_uri").GetString());

        var user = await rig.DownstreamApi.RegisterAndLoginAsync("someone@example.org");
        using var forbidden = await rig.DownstreamApi.GetWithTokenAsync("/api/v1/admin/providers", user.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public void Provider_WithoutClientSecret_StopsTheServerNamingTheKey()
    {
        using var factory = new TokenServerFactory();
        factory.Settings["TokenServer:ExternalProviders:Uni:Authority"] = "https://login.example.org";
        factory.Settings["TokenServer:ExternalProviders:Uni:ClientId"] = "tokenserver";

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("TokenServer:ExternalProviders:Uni:ClientSecret is required", error.ToString(), StringComparison.Ordinal);
    }
}
