using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>
/// Single sign-on in a real browser: the code flow to a web app, a second app signed in without a
/// prompt, consent for a third-party app, and one logout ending every app's session.
/// </summary>
public sealed class SignOnBrowserTests
{
    private const string Email = "browser-user@example.org";

    internal static async Task<string?> RegisterClientAsync(HttpClient api, string adminToken, RelyingParty rp, string clientId, string type, bool firstParty, bool backchannel = false)
    {
        var body = new Dictionary<string, object?>
        {
            ["client_id"] = clientId,
            ["name"] = $"App {clientId}",
            ["type"] = type,
            ["redirect_uris"] = new[] { rp.RedirectUri(clientId) },
            ["post_logout_redirect_uris"] = new[] { rp.Url(clientId, "signed-out") },
            ["scopes"] = new[] { "openid", "profile", "email", "offline_access" },
            ["first_party"] = firstParty,
        };
        if (backchannel)
        {
            body["backchannel_logout_uri"] = rp.Url(clientId, "backchannel");
        }

        using var response = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", body, adminToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        var secret = json.TryGetProperty("client_secret", out var s) ? s.GetString() : null;
        rp.AddClient(clientId, secret);
        return secret;
    }

    internal static async Task SignInOnPageAsync(IPage page, string login, string password = Api.Password)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByLabel("Email or username").FillAsync(login);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    [BrowserFact]
    public async Task CodeFlow_SingleSignOn_Consent_AndLogoutEndingEveryApp()
    {
        await using var server = await RealServer.StartAsync();
        await using var rp = await RelyingParty.StartAsync(server.Address);
        var admin = await server.Api.LoginAdminAsync();
        await server.Api.RegisterAsync(Email);
        await RegisterClientAsync(server.Api, admin.AccessToken, rp, "app1", "confidential", firstParty: true);
        await RegisterClientAsync(server.Api, admin.AccessToken, rp, "app2", "confidential", firstParty: true, backchannel: true);
        await RegisterClientAsync(server.Api, admin.AccessToken, rp, "app3", "public", firstParty: false);

        await using var context = await server.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var signInPages = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.StartsWith(server.Address + "signin", StringComparison.Ordinal))
            {
                signInPages.Add(request.Url);
            }
        };

        // App 1: the code flow through the sign-in page.
        await page.GotoAsync(rp.Url("app1", "login"));
        await SignInOnPageAsync(page, Email);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync($"app1: signed in as {Email}");
        var signInsSoFar = signInPages.Count;

        // App 2: signed in by the same browser session, no page shown.
        await page.GotoAsync(rp.Url("app2", "login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync($"app2: signed in as {Email}");
        Assert.Equal(signInsSoFar, signInPages.Count);

        // App 3 is a third party: the user is asked once.
        await page.GotoAsync(rp.Url("app3", "login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Allow App app3 to use your account?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync($"app3: signed in as {Email}");

        // Logout from app 1 ends the browser session and app 2's (back-channel and revoked tokens).
        await page.GotoAsync(rp.Url("app1", "logout"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Signed out of app1");
        await page.GotoAsync(rp.Url("app3", ""));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("app3: session ended");
        for (var i = 0; i < 50 && rp.BackChannelLogouts.IsEmpty; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("app2", Assert.Single(rp.BackChannelLogouts).Client);
        await page.GotoAsync(rp.Url("app2", ""));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("app2: signed out by the server");

        // The browser session is gone: app 1 asks for the password again.
        await page.GotoAsync(rp.Url("app1", "login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    [BrowserFact]
    public async Task Pages_AreServedWithFrameAncestorsNone_AndHomeLinksEverything()
    {
        await using var server = await RealServer.StartAsync();
        await using var context = await server.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(server.Address.ToString());

        Assert.NotNull(response);
        Assert.Contains("frame-ancestors 'none'", await response.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);
        foreach (var link in new[] { "Sign in", "Your account", "API documentation (Swagger UI)", "OpenID Connect discovery" })
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = link })).ToBeVisibleAsync();
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "OpenID Connect discovery" }).ClickAsync();
        var discovery = JsonDocument.Parse(await page.Locator("body").InnerTextAsync()).RootElement;
        Assert.Equal(server.Address.ToString().TrimEnd('/'), discovery.GetProperty("issuer").GetString());
    }
}
