using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Oidc;

namespace TokenServer.Tests.Federation;

/// <summary>
/// Sign-in through an upstream provider of another make: panva's oidc-provider (tests/op-node),
/// which, unlike a TokenServer upstream, answers with an <c>acr</c> and an <c>amr</c> of its own
/// (docs/federation.md). Driven over HTTP; the provider's login and consent complete by themselves.
/// </summary>
public sealed class NodeUpstreamTests
{
    private const string Provider = "nodeup";
    private const string DisplayName = "Node University";
    private const string Email = "ada@node.example.org";
    private const string App = "notebook";
    private const string UpstreamAcr = "urn:example:loa:substantial";

    [NodeFact]
    public async Task SignInThroughOidcProvider_PassesItsAcrAndRegisteredAmr_IntoCodeAndDeviceIdTokens_AndChecksItsIss()
    {
        var downstreamAddress = new Uri($"http://127.0.0.1:{RealServer.FreePort()}");
        var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var callbackPath = $"/signin/{Provider}/callback";
        await using var upstream = await RelyingPartyProcess.NodeScriptAsync(
            "op-node",
            "op.mjs",
            RealServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            FederationRig.ClientId,
            secret,
            downstreamAddress.ToString().TrimEnd('/') + callbackPath,
            Email,
            UpstreamAcr,
            "pwd,hwk,mfa,x-vendor-push");
        var issuer = (await upstream.ReadAsync()).GetProperty("issuer").GetString()!;
        await using var downstream = FederationRig.StartDownstream(downstreamAddress, Provider, issuer, secret, DisplayName);
        using var api = new HttpClient { BaseAddress = downstreamAddress };
        await FederationRig.RegisterAppAsync(api, App);

        using var agent = new UserAgent();
        var (authorize, verifier) = FederationTests.AppAuthorizeRequest(downstreamAddress, App);
        Assert.Null(await agent.GoAsync(authorize, FederationTests.AtApp));
        Assert.Contains(DisplayName, agent.Html, StringComparison.Ordinal);
        var callback = await agent.ClickProviderAsync(Provider, u => u.AbsolutePath == callbackPath);

        // RFC 9207: oidc-provider names itself in the authorization response, and another name is refused.
        Assert.NotNull(callback);
        var query = QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal(issuer, query["iss"].ToString());
        var mixedUp = query.ToDictionary(p => p.Key, p => (string?)(p.Key == "iss" ? "http://mix-up.example.org" : p.Value.ToString()));
        await agent.GoAsync(new Uri(QueryHelpers.AddQueryString(callback.GetLeftPart(UriPartial.Path), mixedUp)));
        Assert.Equal("/signin", agent.Url.AbsolutePath);
        Assert.Contains($"{DisplayName} did not complete the sign-in", agent.Html, StringComparison.Ordinal);

        // The genuine response: a new account, and the app's ID token says how the upstream signed the person in.
        var tokens = await FederationTests.RedeemAsync(api, App, await agent.GoAsync(callback, FederationTests.AtApp), verifier);
        var claims = FederationTests.Claims(tokens);
        Assert.Equal(Email, claims.GetProperty("email").GetString());
        Assert.True(claims.GetProperty("email_verified").GetBoolean());
        Assert.Equal(UpstreamAcr, claims.GetProperty("acr").GetString());

        // RFC 8176 §2: fed, then the upstream's registered values; its private x-vendor-push is not passed on.
        string[] amr = ["fed", "pwd", "hwk", "mfa"];
        Assert.Equal(amr, claims.GetProperty("amr").EnumerateArray().Select(a => a.GetString()!).ToArray());

        // A device allowed in the same browser session gets the same acr and amr (RFC 8628).
        var device = await FederationTests.DeviceIdTokenAsync(api, agent, page => agent.GoAsync(page));
        Assert.Equal(claims.GetProperty("sub").GetString(), device.GetProperty("sub").GetString());
        Assert.Equal(UpstreamAcr, device.GetProperty("acr").GetString());
        Assert.Equal(amr, device.GetProperty("amr").EnumerateArray().Select(a => a.GetString()!).ToArray());
    }
}
