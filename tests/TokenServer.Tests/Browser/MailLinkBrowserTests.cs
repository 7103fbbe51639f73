using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>
/// The pages the account mails link to, in a real browser without script: the link is read from
/// the mail the in-process SMTP server received and opened as the person would open it.
/// </summary>
public sealed class MailLinkBrowserTests
{
    private const string Email = "mailed@example.org";
    private const string NewPassword = "a-brand-new-secret-42";

    private static string Url(RealServer server, string path) => new Uri(server.Address, path).ToString();

    private static async Task<IPage> NewPageAsync(RealServer server)
    {
        var context = await server.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        return await context.NewPageAsync();
    }

    private static ILocator EmailSection(IPage page) => page.GetByRole(AriaRole.Region, new() { Name = "Email", Exact = true });

    private static async Task SignInToAccountAsync(RealServer server, IPage page, string email, string password = Api.Password)
    {
        await page.GotoAsync(Url(server, "/account"));
        await SignOnBrowserTests.SignInOnPageAsync(page, email, password);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
    }

    [BrowserFact]
    public async Task ForgotPassword_TheMailedLinkSetsANewPassword_ThatSignsIn_AndEveryOldSessionIsEnded()
    {
        using var smtp = new TestSmtpServer();
        await using var server = await RealServer.StartAsync(f => smtp.Configure(f.Settings));
        await server.Api.RegisterAsync(Email);
        var script = await server.Api.LoginAsync(Email);
        await smtp.WaitForMailAsync(Email); // the registration's verification mail
        var before = await NewPageAsync(server);
        await SignInToAccountAsync(server, before, Email);

        // Another browser: the sign-in page's link to the reset form.
        var page = await NewPageAsync(server);
        await page.GotoAsync(Url(server, "/account"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reset your password" })).ToBeVisibleAsync();
        await page.GetByLabel("Email address of your account").FillAsync(Email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send reset link" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"If {Email} has an account, a link to choose a new password is on its way.");

        var mail = await smtp.WaitForMailAsync(Email, 2);
        Assert.Equal("Reset your TokenServer password", mail.Subject);
        var link = TestSmtpServer.LinkIn(mail).ToString();
        Assert.StartsWith(Url(server, "/account/reset-password?token="), link, StringComparison.Ordinal);
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Choose a new password" })).ToBeVisibleAsync();

        // A password the policy refuses: the field says why, and the link still works.
        await page.GetByLabel("New password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("New password")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByLabel("New password")).ToHaveAccessibleDescriptionAsync(new Regex("\\w+"));

        await page.GetByLabel("New password").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your password was changed" })).ToBeVisibleAsync();

        // The old password no longer signs in; the new one does.
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await SignOnBrowserTests.SignInOnPageAsync(page, Email);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(TokenServer.Pages.SignInModel.FailureMessage);
        await SignOnBrowserTests.SignInOnPageAsync(page, Email, NewPassword);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();

        // The browser and the script signed in before the reset are signed out.
        await before.ReloadAsync();
        await Assertions.Expect(before.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        using var me = await server.Api.GetWithTokenAsync("/api/v1/auth/me", script.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);

        // The link worked once.
        await page.GotoAsync(link);
        await page.GetByLabel("New password").FillAsync("yet-another-secret-77");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This link is unknown, expired or already used.");
    }

    [BrowserFact]
    public async Task VerificationLink_ThePageConfirmsTheAddress_WhenThePersonPressesItsButton_Once()
    {
        using var smtp = new TestSmtpServer();
        await using var server = await RealServer.StartAsync(f => smtp.Configure(f.Settings));
        await server.Api.RegisterAsync(Email);
        var mail = await smtp.WaitForMailAsync(Email);
        Assert.Equal("Confirm your email address for TokenServer", mail.Subject);
        var page = await NewPageAsync(server);
        await SignInToAccountAsync(server, page, Email);
        await Assertions.Expect(EmailSection(page)).ToContainTextAsync($"Your address: {Email}, not verified");

        var link = TestSmtpServer.LinkIn(mail).ToString();
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Confirm your email address" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your address is confirmed" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Go to your account" }).ClickAsync();
        await Assertions.Expect(EmailSection(page)).ToContainTextAsync($"Your address: {Email}, verified");
        await Assertions.Expect(EmailSection(page)).Not.ToContainTextAsync("not verified");

        await page.GotoAsync(link);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "This link does not work" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown, expired or already used");
    }

    [BrowserFact]
    public async Task EmailChange_TheLinkMailedToTheNewAddressChangesIt_AndTheOldAddressIsTold()
    {
        const string NewEmail = "moved@example.org";
        using var smtp = new TestSmtpServer();
        await using var server = await RealServer.StartAsync(f => smtp.Configure(f.Settings));
        await server.Api.RegisterAsync(Email);
        await smtp.WaitForMailAsync(Email);
        var page = await NewPageAsync(server);
        await SignInToAccountAsync(server, page, Email);

        await EmailSection(page).GetByLabel("New email address").FillAsync(NewEmail);
        await EmailSection(page).GetByLabel("Current password").FillAsync(Api.Password);
        await EmailSection(page).GetByRole(AriaRole.Button, new() { Name = "Send confirmation link" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"We sent a confirmation link to {NewEmail}. Your address changes when you follow it.");
        await Assertions.Expect(EmailSection(page)).ToContainTextAsync($"Your address: {Email}");

        await page.GotoAsync(TestSmtpServer.LinkIn(await smtp.WaitForMailAsync(NewEmail)).ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Confirm your email address" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your address is confirmed" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Go to your account" }).ClickAsync();
        await Assertions.Expect(EmailSection(page)).ToContainTextAsync($"Your address: {NewEmail}, verified");
        Assert.Contains(NewEmail, (await smtp.WaitForMailAsync(Email, 2)).TextBody, StringComparison.Ordinal);

        // The next sign-in takes the new address, not the old one.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await page.GotoAsync(Url(server, "/account"));
        await SignOnBrowserTests.SignInOnPageAsync(page, Email);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(TokenServer.Pages.SignInModel.FailureMessage);
        await SignOnBrowserTests.SignInOnPageAsync(page, NewEmail);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
    }
}
