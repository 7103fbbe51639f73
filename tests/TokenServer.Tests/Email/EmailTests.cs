using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Email;

/// <summary>
/// CONTRACTS.md "MFA, password reset, email verification": reset and verification links sent
/// through a real SMTP server (in this process), read from the mail and followed over HTTP.
/// </summary>
public sealed class EmailTests : IDisposable
{
    private const string Email = "mail@example.org";
    private const string NewPassword = "a-brand-new-secret-42";
    private readonly TestSmtpServer smtp = new();
    private readonly TokenServerFactory factory = new();
    private HttpClient? client;

    public EmailTests() => smtp.Configure(factory.Settings);

    private HttpClient Client => client ??= factory.CreateClient();

    public void Dispose()
    {
        client?.Dispose();
        factory.Dispose();
        smtp.Dispose();
    }

    private static string WithoutTraceId(System.Text.Json.JsonElement problem) =>
        string.Join(',', problem.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}={p.Value.GetRawText()}"));

    private Task<HttpResponseMessage> PostAsync(string path, object body) => Client.PostAsJsonAsync(path, body);

    private async Task<string> ResetTokenAsync(string email = Email, int mailNumber = 1)
    {
        using var forgot = await PostAsync("/api/v1/auth/password/forgot", new { email });
        Assert.Equal(HttpStatusCode.Accepted, forgot.StatusCode);
        var mail = await smtp.WaitForMailAsync(email, mailNumber);
        Assert.Equal("Reset your TokenServer password", mail.Subject);
        return TestSmtpServer.TokenIn(mail);
    }

    [Fact]
    public async Task Forgot_MailsASingleUseLink_ThatSetsTheNewPassword_AndEndsEverySessionAndPersonalToken()
    {
        var tokens = await Client.RegisterAndLoginAsync(Email);
        using var created = await Client.PostJsonWithTokenAsync("/api/v1/auth/personal-access-tokens", new { name = "ci", scopes = new[] { "read" } }, tokens.AccessToken);
        var pat = (await created.ReadJsonAsync()).GetProperty("token").GetString()!;
        await smtp.WaitForMailAsync(Email); // the verification mail of the registration

        var token = await ResetTokenAsync(mailNumber: 2);
        using var reset = await PostAsync("/api/v1/auth/password/reset", new { token, new_password = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        using (var me = await Client.GetWithTokenAsync("/api/v1/auth/me", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }

        using (var viaPat = await Client.GetWithTokenAsync("/api/v1/auth/me", pat))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, viaPat.StatusCode);
        }

        using (var refresh = await PostAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }

        using (var oldPassword = await PostAsync("/api/v1/auth/login", new { email = Email, password = Api.Password }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        }

        await Client.LoginAsync(Email, NewPassword);
        using var again = await PostAsync("/api/v1/auth/password/reset", new { token, new_password = "yet-another-secret-43" });
        JsonAssert.IsProblem(again, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Forgot_ForAnUnknownAddress_AnswersExactlyAsForAKnownOne_AndMailsNothing()
    {
        await Client.RegisterAsync(Email);
        await smtp.WaitForMailAsync(Email);

        using var unknown = await PostAsync("/api/v1/auth/password/forgot", new { email = "nobody@example.org" });
        using var known = await PostAsync("/api/v1/auth/password/forgot", new { email = Email });

        Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(await known.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
        Assert.Equal(known.Content.Headers.ContentType, unknown.Content.Headers.ContentType);

        // Jobs are sent in order: once the known address's mail is here, the unknown one's job is done.
        await smtp.WaitForMailAsync(Email, 2);
        Assert.Empty(smtp.MailsTo("nobody@example.org"));
    }

    [Fact]
    public async Task ResetLink_WorksUntilOneSecondBeforeAnHour_AndNotAtTheHour()
    {
        await Client.RegisterAsync(Email);
        await Client.RegisterAsync("second@example.org");
        var first = await ResetTokenAsync(mailNumber: 2);
        var second = await ResetTokenAsync("second@example.org", mailNumber: 2);

        factory.Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        using var inTime = await PostAsync("/api/v1/auth/password/reset", new { token = first, new_password = NewPassword });
        Assert.Equal(HttpStatusCode.NoContent, inTime.StatusCode);

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        using var late = await PostAsync("/api/v1/auth/password/reset", new { token = second, new_password = NewPassword });
        JsonAssert.IsProblem(late, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Reset_WithAPasswordThePolicyRefuses_Returns400NamingTheField_AndTheLinkStillWorks()
    {
        await Client.RegisterAsync(Email);
        var token = await ResetTokenAsync(mailNumber: 2);

        using var weak = await PostAsync("/api/v1/auth/password/reset", new { token, new_password = "short" });
        JsonAssert.IsProblem(weak, HttpStatusCode.BadRequest);
        Assert.True((await weak.ReadJsonAsync()).GetProperty("errors").TryGetProperty("new_password", out _));

        using var ok = await PostAsync("/api/v1/auth/password/reset", new { token, new_password = NewPassword });
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
    }

    [Fact]
    public async Task Reset_WithAMadeUpToken_Returns400()
    {
        using var response = await PostAsync("/api/v1/auth/password/reset", new { token = new string('a', 43), new_password = NewPassword });

        JsonAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ForgotRequests_AreRateLimited()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "2";

        using var first = await PostAsync("/api/v1/auth/password/forgot", new { email = "a@example.org" });
        using var second = await PostAsync("/api/v1/auth/password/forgot", new { email = "b@example.org" });
        using var third = await PostAsync("/api/v1/auth/password/forgot", new { email = "c@example.org" });

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
    }

    [Fact]
    public async Task RepeatedForgotRequests_MailOneAccountAtMostOnceAMinute()
    {
        await Client.RegisterAsync(Email);
        await ResetTokenAsync(mailNumber: 2);

        using var again = await PostAsync("/api/v1/auth/password/forgot", new { email = Email });
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        await ResetTokenAsync(mailNumber: 3);

        Assert.Equal(3, smtp.MailsTo(Email).Count);
    }

    [Fact]
    public async Task VerificationRequired_LoginFailsLikeAWrongPassword_UntilTheMailedLinkIsFollowed()
    {
        factory.Settings["TokenServer:Email:Verification"] = "Required";
        await Client.RegisterAsync(Email);
        var mail = await smtp.WaitForMailAsync(Email);
        Assert.Equal("Confirm your email address for TokenServer", mail.Subject);

        using var unverified = await PostAsync("/api/v1/auth/login", new { email = Email, password = Api.Password });
        using var wrong = await PostAsync("/api/v1/auth/login", new { email = Email, password = "wrong-password-1" });
        Assert.Equal(HttpStatusCode.Unauthorized, unverified.StatusCode);
        Assert.Equal(WithoutTraceId(await wrong.ReadJsonAsync()), WithoutTraceId(await unverified.ReadJsonAsync()));

        using var verify = await PostAsync("/api/v1/auth/email/verify", new { token = TestSmtpServer.TokenIn(mail) });
        Assert.Equal(HttpStatusCode.NoContent, verify.StatusCode);

        await Client.LoginAsync(Email);
        await Client.LoginAdminAsync();
    }

    [Fact]
    public async Task Resend_MailsANewVerificationLink_OnlyToAnUnverifiedAddress()
    {
        factory.Settings["TokenServer:Email:Verification"] = "Required";
        await Client.RegisterAsync(Email);
        await smtp.WaitForMailAsync(Email);
        factory.Time.Advance(TimeSpan.FromMinutes(1));

        using var resend = await PostAsync("/api/v1/auth/email/verify/resend", new { email = Email });
        Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        var token = TestSmtpServer.TokenIn(await smtp.WaitForMailAsync(Email, 2));

        using var verify = await PostAsync("/api/v1/auth/email/verify", new { token });
        Assert.Equal(HttpStatusCode.NoContent, verify.StatusCode);
        await Client.LoginAsync(Email);
    }

    [Fact]
    public async Task EmailChange_IsConfirmedAtTheNewAddress_AndTheOldOneGetsANotice()
    {
        var tokens = await Client.RegisterAndLoginAsync(Email);
        await smtp.WaitForMailAsync(Email);
        const string NewEmail = "moved@example.org";

        using var wrongPassword = await Client.PostJsonWithTokenAsync("/api/v1/auth/email", new { new_email = NewEmail, password = "wrong-password-1" }, tokens.AccessToken);
        JsonAssert.IsProblem(wrongPassword, HttpStatusCode.BadRequest);

        using var change = await Client.PostJsonWithTokenAsync("/api/v1/auth/email", new { new_email = NewEmail, password = Api.Password }, tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Accepted, change.StatusCode);
        var confirmation = await smtp.WaitForMailAsync(NewEmail);

        // Nothing changes until the new address confirms.
        await Client.LoginAsync(Email);

        using var verify = await PostAsync("/api/v1/auth/email/verify", new { token = TestSmtpServer.TokenIn(confirmation) });
        Assert.Equal(HttpStatusCode.NoContent, verify.StatusCode);

        var notice = await smtp.WaitForMailAsync(Email, 2);
        Assert.Contains(NewEmail, notice.TextBody);
        await Client.LoginAsync(NewEmail);
        using var old = await PostAsync("/api/v1/auth/login", new { email = Email, password = Api.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
    }

    [Fact]
    public async Task EmailChange_ToATakenAddress_Returns409()
    {
        var tokens = await Client.RegisterAndLoginAsync(Email);
        await Client.RegisterAsync("taken@example.org");

        using var change = await Client.PostJsonWithTokenAsync("/api/v1/auth/email", new { new_email = "TAKEN@example.org", password = Api.Password }, tokens.AccessToken);

        JsonAssert.IsProblem(change, HttpStatusCode.Conflict);
    }
}
