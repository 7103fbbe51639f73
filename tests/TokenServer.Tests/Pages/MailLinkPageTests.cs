using System.Net;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tests.Oidc;

namespace TokenServer.Tests.Pages;

/// <summary>The pages the account mails link to, followed as a person would: forgot password, reset, verify.</summary>
public sealed class MailLinkPageTests : IDisposable
{
    private const string Email = "linker@example.org";
    private readonly TestSmtpServer smtp = new();
    private readonly TokenServerFactory factory = new();

    public MailLinkPageTests() => smtp.Configure(factory.Settings);

    public void Dispose()
    {
        factory.Dispose();
        smtp.Dispose();
    }

    private static async Task<HttpResponseMessage> PostPageAsync(HttpClient browser, string path, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(await browser.GetStringAsync(path));
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task ForgotPage_MailsALink_WhosePageSetsTheNewPassword_Once()
    {
        var api = factory.CreateClient();
        var old = await api.RegisterAndLoginAsync(Email);
        await smtp.WaitForMailAsync(Email);
        var browser = factory.Browser();

        using var asked = await PostPageAsync(browser, "/account/forgot-password", new() { ["Email"] = Email });
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        var mail = await smtp.WaitForMailAsync(Email, 2);
        var path = TestSmtpServer.LinkIn(mail).PathAndQuery;
        Assert.StartsWith("/account/reset-password?token=", path, StringComparison.Ordinal);

        using var weak = await PostPageAsync(browser, path, new() { ["Token"] = TestSmtpServer.TokenIn(mail), ["NewPassword"] = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("id=\"NewPassword-error\"", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var reset = await PostPageAsync(browser, path, new() { ["Token"] = TestSmtpServer.TokenIn(mail), ["NewPassword"] = "a-brand-new-secret-42" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Contains("Your password was changed", await reset.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await api.LoginAsync(Email, "a-brand-new-secret-42");
        using var ended = await api.GetWithTokenAsync("/api/v1/auth/me", old.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);

        using var again = await PostPageAsync(browser, path, new() { ["Token"] = TestSmtpServer.TokenIn(mail), ["NewPassword"] = "yet-another-secret-77" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task VerifyPage_OpeningTheLinkChangesNothing_TheButtonConfirms()
    {
        var api = factory.CreateClient();
        await api.RegisterAsync(Email);
        var mail = await smtp.WaitForMailAsync(Email);
        var path = TestSmtpServer.LinkIn(mail).PathAndQuery;
        Assert.StartsWith("/account/verify-email?token=", path, StringComparison.Ordinal);
        var browser = factory.Browser();
        var signedIn = factory.Browser();
        using (var signIn = await signedIn.SignInAsync(Email))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        Assert.Contains("Confirm my address", await browser.GetStringAsync(path), StringComparison.Ordinal);
        Assert.Contains("not verified", await signedIn.GetStringAsync("/account"), StringComparison.Ordinal);

        using var confirmed = await PostPageAsync(browser, path, new() { ["Token"] = TestSmtpServer.TokenIn(mail) });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Contains("Your address is confirmed", await confirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("not verified", await signedIn.GetStringAsync("/account"), StringComparison.Ordinal);
    }
}
