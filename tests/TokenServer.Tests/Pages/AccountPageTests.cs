using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using OtpNet;
using TokenServer.Tests.Infrastructure;
using TokenServer.Tests.Oidc;

namespace TokenServer.Tests.Pages;

/// <summary>The account page over HTTP as a browser: sign-in required, anti-forgery, and each section's effect on the API.</summary>
public sealed partial class AccountPageTests : IDisposable
{
    private const string Email = "owner@example.org";

    private readonly TokenServerFactory factory = new();
    private readonly HttpClient api;
    private readonly HttpClient browser;

    public AccountPageTests()
    {
        api = factory.CreateClient();
        browser = factory.Browser();
    }

    public void Dispose() => factory.Dispose();

    private async Task SignInAsync(HttpClient who)
    {
        using var signIn = await who.SignInAsync(Email);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
    }

    /// <summary>Submits one of the page's forms as the browser would: with the page's anti-forgery token.</summary>
    private async Task<HttpResponseMessage> SubmitAsync(string handler, Dictionary<string, string> fields, HttpClient? who = null)
    {
        who ??= browser;
        var page = await who.GetStringAsync("/account");
        fields["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(page);
        return await who.PostAsync($"/account?handler={handler}", new FormUrlEncodedContent(fields));
    }

    private static async Task<string> NameOnApiAsync(HttpClient api, string token) =>
        (await (await api.GetWithTokenAsync("/api/v1/auth/me", token)).ReadJsonAsync()).GetProperty("full_name").GetString()!;

    [Fact]
    public async Task Account_NotSignedIn_RedirectsToSignInWithReturnUrl()
    {
        using var response = await browser.GetAsync("/account");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Faccount", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AccountForm_WithoutAntiforgeryToken_IsRefusedAndChangesNothing()
    {
        await api.RegisterAsync(Email, fullName: "Old Name");
        var tokens = await api.LoginAsync(Email);
        await SignInAsync(browser);

        using var forged = await browser.PostAsync("/account?handler=Name", new FormUrlEncodedContent(new Dictionary<string, string> { ["FullName"] = "Forged Name" }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("Old Name", await NameOnApiAsync(api, tokens.AccessToken));
    }

    [Fact]
    public async Task ChangeName_OnPage_IsWhatTheApiAnswers_AndAnEmptyNameIsAnErrorOnTheField()
    {
        await api.RegisterAsync(Email, fullName: "Old Name");
        var tokens = await api.LoginAsync(Email);
        await SignInAsync(browser);

        using var saved = await SubmitAsync("Name", new() { ["FullName"] = "  Ada Lovelace " });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("/account#profile", saved.Headers.Location!.OriginalString);
        Assert.Equal("Ada Lovelace", await NameOnApiAsync(api, tokens.AccessToken));
        Assert.Contains("Your name was saved.", await browser.GetStringAsync("/account"), StringComparison.Ordinal);

        using var empty = await SubmitAsync("Name", new() { ["FullName"] = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        var html = await empty.Content.ReadAsStringAsync();
        Assert.Contains("aria-describedby=\"FullName-error\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"FullName-error\">Give your full name.</p>", html, StringComparison.Ordinal);
        Assert.Equal("Ada Lovelace", await NameOnApiAsync(api, tokens.AccessToken));
    }

    [Fact]
    public async Task EndSession_OnPage_RefusesThatSessionsTokenAtOnce_AndKeepsThisBrowser()
    {
        await api.RegisterAsync(Email);
        var script = await api.LoginAsync(Email);
        await SignInAsync(browser);
        var sessions = await (await api.GetWithTokenAsync("/api/v1/auth/sessions", script.AccessToken)).ReadJsonAsync();
        var scriptSession = sessions.EnumerateArray().Single(s => s.GetProperty("current").GetBoolean()).GetProperty("id").GetString()!;
        Assert.Contains($"value=\"{scriptSession}\"", await browser.GetStringAsync("/account"), StringComparison.Ordinal);

        using var ended = await SubmitAsync("EndSession", new() { ["id"] = scriptSession });

        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        using var refused = await api.GetWithTokenAsync("/api/v1/auth/me", script.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var still = await browser.GetAsync("/account");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task ChangePassword_OnPage_NeedsTheCurrentOne_AndEndsOtherSessions()
    {
        await api.RegisterAsync(Email);
        var script = await api.LoginAsync(Email);
        await SignInAsync(browser);

        using var wrong = await SubmitAsync("Password", new() { ["CurrentPassword"] = "not-my-password-1", ["NewPassword"] = "another-secure-pass-42" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("id=\"CurrentPassword-error\"", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using (var stillGood = await api.GetWithTokenAsync("/api/v1/auth/me", script.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, stillGood.StatusCode);
        }

        using var changed = await SubmitAsync("Password", new() { ["CurrentPassword"] = Api.Password, ["NewPassword"] = "another-secure-pass-42" });

        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        using var refused = await api.GetWithTokenAsync("/api/v1/auth/me", script.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await api.LoginAsync(Email, "another-secure-pass-42");
        using var page = await browser.GetAsync("/account");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task CreateToken_ShowsItOnce_ItWorksOnTheApi_AndRevokeStopsIt()
    {
        await api.RegisterAsync(Email, fullName: "Token Maker");
        await SignInAsync(browser);

        using var created = await SubmitAsync("CreateToken", new() { ["TokenName"] = "nightly sync", ["TokenScopes"] = "read", ["TokenDays"] = "30" });

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore);
        var token = TokenPattern().Match(await created.Content.ReadAsStringAsync()).Groups[1].Value;
        Assert.NotEmpty(token);
        Assert.Equal("Token Maker", await NameOnApiAsync(api, token));
        Assert.DoesNotContain(token, await browser.GetStringAsync("/account"), StringComparison.Ordinal);

        var list = await (await api.GetWithTokenAsync("/api/v1/auth/personal-access-tokens", token)).ReadJsonAsync();
        var id = Assert.Single(list.EnumerateArray()).GetProperty("id").GetString()!;
        using var revoked = await SubmitAsync("RevokeToken", new() { ["id"] = id });
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        using var refused = await api.GetWithTokenAsync("/api/v1/auth/me", token);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task CreateToken_SignInOlderThanFiveMinutes_AsksForThePasswordFirst()
    {
        await api.RegisterAsync(Email);
        await SignInAsync(browser);
        factory.Time.Advance(TimeSpan.FromMinutes(6));
        var fields = new Dictionary<string, string> { ["TokenName"] = "ci", ["TokenScopes"] = "read", ["TokenDays"] = "7" };

        using var refused = await SubmitAsync("CreateToken", new(fields));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("id=\"token-confirm-error\"", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(TokenPattern(), html);

        using var wrong = await SubmitAsync("CreateToken", new(fields) { ["ConfirmPassword"] = "wrong-password-00" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);

        using var confirmed = await SubmitAsync("CreateToken", new(fields) { ["ConfirmPassword"] = Api.Password });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Matches(TokenPattern(), await confirmed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CreateToken_ScopeBeyondRole_IsAnErrorOnTheScopes()
    {
        await api.RegisterAsync(Email);
        await SignInAsync(browser);

        using var refused = await SubmitAsync("CreateToken", new() { ["TokenName"] = "too much", ["TokenScopes"] = "admin", ["TokenDays"] = "7" });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("id=\"TokenScopes-error\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokeApp_RemovesConsent_AndEndsTheAppsSessions()
    {
        var admin = await api.LoginAdminAsync();
        var client = await api.RegisterClientAsync(admin.AccessToken, "partner", firstParty: false);
        await api.RegisterAsync(Email);
        await SignInAsync(browser);
        var pkce = Pkce.Create();
        using var start = await browser.GetAsync(OidcKit.AuthorizeUrl("partner", pkce));
        var consentPage = await browser.GetStringAsync(start.Headers.Location);
        var returnUrl = QueryHelpers.ParseQuery(new Uri(browser.BaseAddress!, start.Headers.Location!).Query)["returnUrl"].ToString();
        using var allow = await browser.PostAsync("/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(consentPage),
            ["ReturnUrl"] = returnUrl,
            ["decision"] = "allow",
        }));
        var code = OidcKit.Query(await browser.FollowToClientAsync(allow.Headers.Location!.OriginalString))["code"];
        using var redeemed = await api.RedeemAsync("partner", client.GetProperty("client_secret").GetString(), code, pkce.Verifier);
        var appToken = (await redeemed.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        Assert.Contains("App partner", await browser.GetStringAsync("/account"), StringComparison.Ordinal);

        using var revoked = await SubmitAsync("RevokeApp", new() { ["clientId"] = "partner" });

        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        using var refused = await api.GetWithTokenAsync("/api/v1/auth/me", appToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain("App partner", await browser.GetStringAsync("/account"), StringComparison.Ordinal);
        var again = await browser.FollowToClientAsync(OidcKit.AuthorizeUrl("partner", Pkce.Create(), prompt: "none"));
        Assert.Equal("consent_required", OidcKit.Query(again)["error"]);
    }

    [Fact]
    public async Task EnrolMfa_OnPage_ThenSignInAsksForACode()
    {
        await api.RegisterAsync(Email);
        await SignInAsync(browser);

        using var enrol = await SubmitAsync("EnrolMfa", []);
        Assert.Equal(HttpStatusCode.OK, enrol.StatusCode);
        var secret = SecretPattern().Match(await enrol.Content.ReadAsStringAsync()).Groups[1].Value;
        var totp = new Totp(Base32Encoding.ToBytes(secret));
        using var confirmed = await SubmitAsync("ConfirmMfa", new() { ["MfaCode"] = totp.ComputeTotp(factory.Time.GetUtcNow().UtcDateTime) });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(10, RecoveryCodePattern().Count(await confirmed.Content.ReadAsStringAsync()));

        // A new browser: the right password leads to the code step, not into the account.
        var other = factory.Browser();
        using var password = await other.SignInAsync(Email);
        Assert.Equal(HttpStatusCode.OK, password.StatusCode);
        var codePage = await password.Content.ReadAsStringAsync();
        Assert.Contains("Enter your sign-in code", codePage, StringComparison.Ordinal);
        var mfaToken = MfaTokenPattern().Match(codePage).Groups[1].Value;
        using (var notYet = await other.GetAsync("/account"))
        {
            Assert.Equal(HttpStatusCode.Redirect, notYet.StatusCode);
        }

        async Task<HttpResponseMessage> AnswerAsync(string code) => await other.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcKit.AntiforgeryToken(codePage),
            ["ReturnUrl"] = "/account",
            ["MfaToken"] = mfaToken,
            ["Code"] = code,
        }));

        using var wrong = await AnswerAsync("000000");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        factory.Time.Advance(TimeSpan.FromSeconds(30));
        using var right = await AnswerAsync(totp.ComputeTotp(factory.Time.GetUtcNow().UtcDateTime));
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        using var account = await other.GetAsync("/account");
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Contains("Two-factor sign-in is <strong>on</strong>", await account.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrowserSessionLastUse_MovesWhenTheBrowserIsUsedAMinuteLater_AndIsNotWrittenWithinTheMinute()
    {
        await api.RegisterAsync(Email);
        var script = await api.LoginAsync(Email);
        var admin = await api.LoginAdminAsync();
        await api.RegisterClientAsync(admin.AccessToken, "notebook");
        await SignInAsync(browser);
        var signedInAt = factory.Time.GetUtcNow();

        async Task<DateTimeOffset> BrowserLastUsedAsync()
        {
            using var response = await api.GetWithTokenAsync("/api/v1/auth/sessions", script.AccessToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var sessions = await response.ReadJsonAsync();
            return sessions.EnumerateArray().Single(s => s.GetProperty("dialect").GetString() == "browser").GetProperty("last_used_at").GetDateTimeOffset();
        }

        async Task AuthorizeAsync()
        {
            using var response = await browser.GetAsync(OidcKit.AuthorizeUrl("notebook", Pkce.Create()));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith(OidcKit.RedirectUri + "?code=", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        static string When(DateTimeOffset at) => TokenServer.Pages.AccountModel.When(at);

        static void AssertAt(DateTimeOffset expected, DateTimeOffset actual) =>
            Assert.InRange(actual, expected - TimeSpan.FromMilliseconds(1), expected + TimeSpan.FromMilliseconds(1));

        AssertAt(signedInAt, await BrowserLastUsedAsync());

        // Used within the minute (the account page, an app's sign-in): nothing is written.
        factory.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account")).StatusCode);
        await AuthorizeAsync();
        AssertAt(signedInAt, await BrowserLastUsedAsync());

        // A minute after the stamp, the account page's visit stamps it, and the page shows it.
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        var visitedAt = factory.Time.GetUtcNow();
        var page = await browser.GetStringAsync("/account");
        AssertAt(visitedAt, await BrowserLastUsedAsync());
        var row = $"this browser</strong>.*?</td>\\s*<td>{Regex.Escape(When(signedInAt))}</td>\\s*<td>{Regex.Escape(When(visitedAt))}</td>";
        Assert.Matches(new Regex(row, RegexOptions.Singleline), page);

        // An authorization request with the existing session counts as a use too, once the minute is over.
        factory.Time.Advance(TimeSpan.FromSeconds(30));
        await AuthorizeAsync();
        AssertAt(visitedAt, await BrowserLastUsedAsync());
        factory.Time.Advance(TimeSpan.FromSeconds(30));
        await AuthorizeAsync();
        AssertAt(visitedAt + TimeSpan.FromMinutes(1), await BrowserLastUsedAsync());
    }

    [GeneratedRegex("id=\"new-token\" type=\"text\" readonly value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("id=\"mfa-secret\" type=\"text\" readonly value=\"([A-Z2-7]+)\"")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("<li><code>[^<]+</code></li>")]
    private static partial Regex RecoveryCodePattern();

    [GeneratedRegex("name=\"MfaToken\" value=\"([^\"]+)\"")]
    private static partial Regex MfaTokenPattern();
}
