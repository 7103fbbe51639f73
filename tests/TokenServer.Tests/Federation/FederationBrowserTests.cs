using Microsoft.Playwright;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Federation;

/// <summary>"Sign in with your institution" in a real browser: a web app of the downstream TokenServer, its sign-in page's provider button, the upstream TokenServer's password page, and back to the app.</summary>
public sealed class FederationBrowserTests
{
    private const string Person = "ada@uni.example.org";

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFactAttribute.ChromiumPath, Headless = true });

    private static ILocator LinkedIdentities(IPage page) => page.GetByRole(AriaRole.Region, new() { Name = "Linked identities" });

    /// <summary>From the downstream's sign-in page (reached from /account) through the provider's button and the upstream's password page.</summary>
    private static async Task SignInThroughUpstreamAsync(FederationRig rig, IPage page, string email)
    {
        await page.GotoAsync(new Uri(rig.DownstreamAddress, "/account").ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = FederationRig.DisplayName }).ClickAsync();
        await UpstreamPasswordAsync(rig, page, email);
    }

    private static async Task UpstreamPasswordAsync(FederationRig rig, IPage page, string email)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.StartsWith(rig.UpstreamIssuer, page.Url, StringComparison.Ordinal);
        await SignOnBrowserTests.SignInOnPageAsync(page, email);
    }

    [BrowserFact]
    public async Task SignInWithInstitution_FirstCreatesTheAccount_SecondGivesTheSameSub()
    {
        await using var rig = await FederationRig.StartAsync();
        await using var rp = await RelyingParty.StartAsync(rig.DownstreamAddress);
        var admin = await rig.DownstreamApi.LoginAdminAsync();
        await SignOnBrowserTests.RegisterClientAsync(rig.DownstreamApi, admin.AccessToken, rp, "app1", "confidential", firstParty: true);
        await rig.UpstreamApi.RegisterAsync(Person, fullName: "Ada Lovelace");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
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

    [BrowserFact]
    public async Task UpstreamSignIn_OfAnExistingAccount_AsksForItsPassword_RefusesAWrongOne_AndTheRightOneLinksAndSignsIn()
    {
        await using var rig = await FederationRig.StartAsync();
        await rig.DownstreamApi.RegisterAsync(Person, fullName: "Local Ada");
        await rig.UpstreamApi.RegisterAsync(Person, fullName: "Ada Lovelace");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new() { JavaScriptEnabled = false })).NewPageAsync();

        await SignInThroughUpstreamAsync(rig, page, Person);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Link your {FederationRig.DisplayName} sign-in" })).ToBeVisibleAsync();
        Assert.Equal(new Uri(rig.DownstreamAddress, "/signin/link").ToString(), page.Url);
        var password = page.GetByLabel($"Password of {Person}");

        await password.FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Link and sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(TokenServer.Pages.LinkAccountModel.FailureMessage);
        await Assertions.Expect(password).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(password).ToHaveAccessibleDescriptionAsync(TokenServer.Pages.LinkAccountModel.FailureMessage);

        await password.FillAsync(Api.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Link and sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText($"Signed in as {Person}")).ToBeVisibleAsync();
        await Assertions.Expect(LinkedIdentities(page)).ToContainTextAsync($"{FederationRig.DisplayName}, linked");
    }

    [BrowserFact]
    public async Task AccountPage_LinksAProviderToTheSignedInAccount_UnlinksIt_AndRefusesToUnlinkTheLastWayIn()
    {
        const string Other = "other-address@uni.example.org";
        await using var rig = await FederationRig.StartAsync();
        await rig.DownstreamApi.RegisterAsync(Person);
        await rig.UpstreamApi.RegisterAsync(Other);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);

        // Signed in with the password, the person links an upstream identity of another address.
        var page = await (await browser.NewContextAsync(new() { JavaScriptEnabled = false })).NewPageAsync();
        await page.GotoAsync(new Uri(rig.DownstreamAddress, "/account").ToString());
        await SignOnBrowserTests.SignInOnPageAsync(page, Person);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Linked identities" }).ClickAsync();
        Assert.EndsWith("#identities", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(LinkedIdentities(page)).ToContainTextAsync("No institution or other provider is linked to your account.");
        await LinkedIdentities(page).GetByRole(AriaRole.Button, new() { Name = $"Link {FederationRig.DisplayName}" }).ClickAsync();
        await UpstreamPasswordAsync(rig, page, Other);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText($"Signed in as {Person}")).ToBeVisibleAsync();
        await Assertions.Expect(LinkedIdentities(page)).ToContainTextAsync($"{FederationRig.DisplayName}, linked");

        // The account has a password, so the link can go.
        await LinkedIdentities(page).GetByRole(AriaRole.Button, new() { Name = $"Unlink {FederationRig.DisplayName}" }).ClickAsync();
        await Assertions.Expect(LinkedIdentities(page).GetByRole(AriaRole.Status)).ToHaveTextAsync("The identity was unlinked; it no longer signs you in.");
        await Assertions.Expect(LinkedIdentities(page)).ToContainTextAsync("No institution or other provider is linked to your account.");

        // Unlinked, the upstream identity signs in as an account of its own, made without a
        // password: its only way in cannot be unlinked.
        var newcomer = await (await browser.NewContextAsync(new() { JavaScriptEnabled = false })).NewPageAsync();
        await SignInThroughUpstreamAsync(rig, newcomer, Other);
        await Assertions.Expect(newcomer.GetByText($"Signed in as {Other}")).ToBeVisibleAsync();
        await LinkedIdentities(newcomer).GetByRole(AriaRole.Button, new() { Name = $"Unlink {FederationRig.DisplayName}" }).ClickAsync();
        await Assertions.Expect(LinkedIdentities(newcomer).GetByRole(AriaRole.Alert)).ToContainTextAsync("This is the only way to sign in to your account");
        await Assertions.Expect(LinkedIdentities(newcomer)).ToContainTextAsync($"{FederationRig.DisplayName}, linked");
        await Assertions.Expect(LinkedIdentities(newcomer).GetByRole(AriaRole.Link, new() { Name = "Set a password" })).ToBeVisibleAsync();
    }
}
