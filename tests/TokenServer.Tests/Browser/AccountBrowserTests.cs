using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using OtpNet;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>The account page in a real browser, without script: each section changes what the API and the next sign-in see.</summary>
public sealed class AccountBrowserTests
{
    private const string Email = "account-user@example.org";

    private static async Task<HttpStatusCode> MeStatusAsync(HttpClient api, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await api.SendAsync(request);
        return response.StatusCode;
    }

    [BrowserFact]
    public async Task AccountPage_Name_Token_Sessions_AndTwoFactorSignIn()
    {
        await using var server = await RealServer.StartAsync();
        await server.Api.RegisterAsync(Email, fullName: "First Name");
        var script = await server.Api.LoginAsync(Email);
        await using var context = await server.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();

        // Not signed in: the page sends the browser to sign in, then back.
        await page.GotoAsync(new Uri(server.Address, "/account").ToString());
        await SignOnBrowserTests.SignInOnPageAsync(page, Email);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();

        // Profile.
        await page.GetByLabel("Full name").FillAsync("Grace Hopper");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save name" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Your name was saved.");
        await Assertions.Expect(page.GetByLabel("Full name")).ToHaveValueAsync("Grace Hopper");

        // A personal access token, shown once, used from a script.
        await page.GetByLabel("Token name (what uses it)").FillAsync("laptop script");
        await page.GetByLabel("read", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Make token" }).ClickAsync();
        var token = await page.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var me = await server.Api.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            Assert.Equal("Grace Hopper", (await me.ReadJsonAsync()).GetProperty("full_name").GetString());
        }

        // Another session (the script's login) ended here is refused at once.
        Assert.Equal(HttpStatusCode.OK, await MeStatusAsync(server.Api, script.AccessToken));
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new("^End session of ") }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The session was ended.");
        Assert.Equal(HttpStatusCode.Unauthorized, await MeStatusAsync(server.Api, script.AccessToken));

        // Two-factor sign-in, with a code computed here from the secret the page shows.
        await page.GetByRole(AriaRole.Button, new() { Name = "Set up an authenticator app" }).ClickAsync();
        var totp = new Totp(Base32Encoding.ToBytes(await page.GetByLabel("Secret", new() { Exact = true }).InputValueAsync()));
        await page.GetByLabel("The 6-digit code the app shows now").FillAsync(totp.ComputeTotp(server.Factory.Time.GetUtcNow().UtcDateTime));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor sign-in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor sign-in is on" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();

        // The next sign-in asks for a code after the password.
        await using var next = await server.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var again = await next.NewPageAsync();
        await again.GotoAsync(new Uri(server.Address, "/account").ToString());
        await SignOnBrowserTests.SignInOnPageAsync(again, Email);
        await Assertions.Expect(again.GetByRole(AriaRole.Heading, new() { Name = "Enter your sign-in code" })).ToBeVisibleAsync();
        server.Factory.Time.Advance(TimeSpan.FromSeconds(30));
        await again.GetByLabel("Code from your authenticator app (or a recovery code)").FillAsync(totp.ComputeTotp(server.Factory.Time.GetUtcNow().UtcDateTime));
        await again.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Assertions.Expect(again.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
    }
}
