using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0: a client that registered a back-channel logout URI is
/// sent a logout token (§2.4) however the user's session ends - through the session API, a
/// password change, or an administrator - not only by RP-initiated logout.
/// </summary>
public sealed class BackChannelLogoutTests : IAsyncLifetime
{
    private const string Email = "backchannel@example.org";
    private const string Issuer = "http://localhost:8000";

    private readonly TokenServerFactory factory = new();
    private readonly Channel<string> received = Channel.CreateUnbounded<string>();
    private HttpClient api = null!;
    private HttpClient browser = null!;
    private WebApplication listener = null!;
    private string backchannelUri = null!;

    public async Task InitializeAsync()
    {
        api = factory.CreateClient();
        browser = factory.Browser();

        // The client's back-channel endpoint: a real HTTP listener on a free port.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        listener = builder.Build();
        listener.MapPost("/backchannel", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            await received.Writer.WriteAsync(form["logout_token"].ToString());
            return Results.Ok();
        });
        await listener.StartAsync();
        var address = listener.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        backchannelUri = address.TrimEnd('/') + "/backchannel";
    }

    public async Task DisposeAsync()
    {
        await listener.DisposeAsync();
        await factory.DisposeAsync();
    }

    /// <summary>Signs the user in to "portal" through the browser; returns the ID token's sid and the user's native sub.</summary>
    private async Task<(string Sid, string Sub, string AdminToken, string IdToken)> SignedInAsync()
    {
        var admin = await api.LoginAdminAsync();
        var secret = (await api.RegisterClientAsync(admin.AccessToken, "portal", backchannel: backchannelUri)).GetProperty("client_secret").GetString()!;
        var sub = (await api.RegisterAsync(Email)).GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);
        using (var signIn = await browser.SignInAsync(Email))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        var pkce = Pkce.Create();
        var callback = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("portal", pkce));
        using var token = await api.RedeemAsync("portal", secret, OidcKit.Query(callback)["code"], pkce.Verifier);
        var idToken = (await token.ReadJsonAsync()).GetProperty("id_token").GetString()!;
        return (OidcKit.Payload(idToken).GetProperty("sid").GetString()!, sub, admin.AccessToken, idToken);
    }

    /// <summary>The next logout token, checked as Back-Channel Logout 1.0 §2.4 and §2.6 tell the client to.</summary>
    private async Task<JsonWebToken> ReceiveValidLogoutTokenAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = await received.Reader.ReadAsync(timeout.Token);

        var jwks = new JsonWebKeySet(await api.GetStringAsync("/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = "portal",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["logout+jwt"],
            RequireSignedTokens = true,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.True(jwt.TryGetPayloadValue<long>("iat", out _));
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        var events = JsonDocument.Parse(jwt.GetPayloadValue<object>("events").ToString()!).RootElement;
        Assert.Equal(JsonValueKind.Object, events.GetProperty("http://schemas.openid.net/event/backchannel-logout").ValueKind);
        Assert.False(jwt.TryGetPayloadValue<string>("nonce", out _), "A logout token must not contain a nonce (§2.4).");
        return jwt;
    }

    /// <summary>DELETE /api/v1/auth/sessions (every other session) and DELETE /api/v1/auth/sessions/{sid} (the browser's).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UserEndsTheBrowserSessionThroughTheApi_ClientGetsLogoutToken(bool onlyThatSession)
    {
        var (sid, sub, _, _) = await SignedInAsync();
        var tokens = await api.LoginAsync(Email);

        var path = onlyThatSession ? $"/api/v1/auth/sessions/{sid}" : "/api/v1/auth/sessions";
        using var request = new HttpRequestMessage(HttpMethod.Delete, path).WithBearer(tokens.AccessToken);
        using var response = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var logout = await ReceiveValidLogoutTokenAsync();
        Assert.Equal(sid, logout.GetClaim("sid").Value);
        Assert.Equal(sub, logout.Subject);
    }

    [Fact]
    public async Task AdministratorDisablesTheAccount_ClientGetsLogoutToken()
    {
        var (sid, sub, adminToken, _) = await SignedInAsync();

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/admin/accounts/{sub}") { Content = JsonContent.Create(new { status = "disabled" }) }.WithBearer(adminToken);
        using var response = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var logout = await ReceiveValidLogoutTokenAsync();
        Assert.Equal(sid, logout.GetClaim("sid").Value);
        Assert.Equal(sub, logout.Subject);
    }

    [Fact]
    public async Task RpInitiatedLogout_ClientGetsLogoutToken()
    {
        var (sid, sub, _, idToken) = await SignedInAsync();

        using var response = await browser.GetAsync($"/connect/logout?id_token_hint={idToken}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var logout = await ReceiveValidLogoutTokenAsync();
        Assert.Equal(sid, logout.GetClaim("sid").Value);
        Assert.Equal(sub, logout.Subject);
    }
}
