using Microsoft.Playwright;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Federation;

/// <summary>"Sign in with your institution" in a real browser: a web app of the downstream TokenServer, its sign-in page's provider button, the upstream TokenServer's password page, and back to the app.</summary>
public sealed class FederationBrowserTests
{
    private const string Person = "ada@uni.example.org";

    [BrowserFact]
    public async Task SignInWithInstitution_FirstCreatesTheAccount_SecondGivesTheSameSub()
    {
        await using var rig = await FederationRig.StartAsync();
        await using var rp = await RelyingParty.StartAsync(rig.DownstreamAddress);
        var admin = await rig.DownstreamApi.LoginAdminAsync();
        await SignOnBrowserTests.RegisterClientAsync(rig.DownstreamApi, admin.AccessToken, rp, "app1", "confidential", firstParty: true);
        await rig.UpstreamApi.RegisterAsync(Person, fullName: "Ada Lovelace");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFactAttribute.ChromiumPath, Headless = true });
        foreach (var attempt in new[] { "first", "second" })
        {
            // A fresh browser each time: nothing remembered but what the servers store.
            await using var context = await browser.NewContextAsync(new() { JavaScriptEnabled = false });
            var page = await context.NewPageAsync();
            await page.GotoAsync(rp.Url("app1", "login"));
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = FederationRig.DisplayName }).ClickAsync();

            // The upstream's own sign-in page.
            Assert.StartsWith(rig.UpstreamAddress.ToString().TrimEnd('/'), page.Url, StringComparison.Ordinal);
            await SignOnBrowserTests.SignInOnPageAsync(page, Person);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync($"app1: signed in as {Person}");
            Assert.Equal(attempt == "first" ? 1 : 2, rp.IdTokenClaims.Count);
        }

        var tokens = rp.IdTokenClaims.ToArray();
        Assert.Equal(tokens[0].GetProperty("sub").GetString(), tokens[1].GetProperty("sub").GetString());
        Assert.Contains("fed", tokens[1].GetProperty("amr").EnumerateArray().Select(a => a.GetString()));
    }
}
