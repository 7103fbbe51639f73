using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// An ASP.NET Core web app using the stock OpenID Connect handler (<c>AddOpenIdConnect</c>), set up
/// as docs/oidc.md shows, signs its user in against a real TokenServer. The test plays the browser
/// with an HTTP client that follows redirects and fills in the server's sign-in form.
/// </summary>
public sealed class AspNetCoreRelyingPartyTests
{
    private const string Email = "aspnet-user@example.org";

    [Fact]
    public async Task AddOpenIdConnect_SignsUserIn_WithPkceAndIssResponseParameter()
    {
        var (factory, server) = RealServer.StartKestrel();
        await using var _ = factory;
        var issuer = server.ToString().TrimEnd('/');
        var seen = new ConcurrentDictionary<string, string>();

        // The web app is reached as localhost and TokenServer as 127.0.0.1, so the two keep their cookies apart as two sites would.
        var appPort = RealServer.FreePort();
        var appAddress = new Uri($"http://localhost:{appPort}/");
        using var api = new HttpClient { BaseAddress = server };
        var admin = await api.LoginAdminAsync();
        var client = await api.RegisterClientAsync(admin.AccessToken, "aspnet-app", redirectUris: [$"{appAddress}signin-oidc"]);
        await using var app = await StartWebAppAsync(appPort, issuer, client.GetProperty("client_secret").GetString()!, seen);
        var nativeSub = (await api.RegisterAsync(Email)).GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);

        using var handler = new HttpClientHandler { AllowAutoRedirect = true, UseCookies = true };
        using var browser = new HttpClient(handler) { BaseAddress = server };

        // The app's protected page challenges: the browser lands on TokenServer's sign-in page.
        using var challenge = await browser.GetAsync(appAddress);
        Assert.Equal(HttpStatusCode.OK, challenge.StatusCode);
        var signInPage = challenge.RequestMessage!.RequestUri!;
        Assert.Equal($"{issuer}/signin", signInPage.GetLeftPart(UriPartial.Path));

        // Signing in sends it back through /authorize to the app's callback, then to the page it asked for.
        using var signedIn = await browser.SignInAsync(Email, returnUrl: OidcKit.Query(signInPage)["returnUrl"]);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Equal(appAddress, signedIn.RequestMessage!.RequestUri);
        var page = JsonDocument.Parse(await signedIn.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(nativeSub, page.GetProperty("sub").GetString());
        Assert.Equal(Email, page.GetProperty("email").GetString());

        Assert.Equal("S256", seen["code_challenge_method"]);
        Assert.Equal("true", seen["code_verifier_sent"]);
        Assert.Equal(issuer, seen["iss"]);
    }

    /// <summary>The relying party: cookies for its own session, the OpenID Connect handler for sign-in.</summary>
    private static async Task<WebApplication> StartWebAppAsync(int port, string issuer, string secret, ConcurrentDictionary<string, string> seen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie()
            .AddOpenIdConnect(o =>
            {
                o.Authority = issuer;
                o.ClientId = "aspnet-app";
                o.ClientSecret = secret;
                o.Events.OnRedirectToIdentityProvider = context =>
                {
                    seen["code_challenge_method"] = context.ProtocolMessage.GetParameter("code_challenge_method");
                    return Task.CompletedTask;
                };
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.Scope.Add("email");
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = true;

                // The test runs on plain HTTP on loopback; in production keep the defaults (HTTPS only).
                o.RequireHttpsMetadata = false;
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SameSite = SameSiteMode.Lax;

                // RFC 9207: the handler does not check the iss response parameter itself.
                o.Events.OnMessageReceived = context =>
                {
                    var iss = context.ProtocolMessage.GetParameter("iss");
                    seen["iss"] = iss ?? "";
                    if (iss != issuer)
                    {
                        context.Fail("The authorization response's iss parameter does not name the expected server (RFC 9207).");
                    }

                    return Task.CompletedTask;
                };
                o.Events.OnAuthorizationCodeReceived = context =>
                {
                    seen["code_verifier_sent"] = (context.TokenEndpointRequest?.GetParameter("code_verifier") is { Length: > 0 }).ToString().ToLowerInvariant();
                    return Task.CompletedTask;
                };
            });
        builder.Services.AddAuthorization();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/", (HttpContext context) => Results.Json(new
        {
            sub = context.User.FindFirst("sub")?.Value,
            email = context.User.FindFirst("email")?.Value,
        })).RequireAuthorization();
        await app.StartAsync();
        return app;
    }
}
