using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenServer.Tests.Compat;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Mfa;

/// <summary>CONTRACTS.md "MFA, password reset, email verification": TOTP enrolment, the mfa_required login step, recovery codes.</summary>
public sealed class MfaTests : IDisposable
{
    private const string Email = "mfa@example.org";
    private readonly TokenServerFactory factory = new();
    private HttpClient? client;

    public MfaTests()
    {
        foreach (var dialect in new[] { "LifeNome", "TrackHub", "NeMO", "TetraScience" })
        {
            factory.Settings[$"TokenServer:Dialects:{dialect}:Enabled"] = "true";
        }
    }

    private HttpClient Client => client ??= factory.CreateClient();

    private TestClock Clock => factory.Time;

    public void Dispose()
    {
        client?.Dispose();
        factory.Dispose();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (bearer is not null)
        {
            request.WithBearer(bearer);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>Registers, enrols and confirms: MFA is on. Answers the secret and the recovery codes.</summary>
    private async Task<(byte[] Secret, string[] RecoveryCodes)> AccountWithMfaAsync(string email = Email)
    {
        var login = (await Client.RegisterAndLoginAsync(email, username: email.Split('@')[0])).AccessToken;
        using var enrol = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp", login);
        Assert.Equal(HttpStatusCode.OK, enrol.StatusCode);
        var secret = ReferenceTotp.FromBase32((await enrol.ReadJsonAsync()).GetProperty("secret").GetString()!);
        using var confirm = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp/confirm", login, new { code = ReferenceTotp.Code(secret, Clock.GetUtcNow()) });
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        var codes = (await confirm.ReadJsonAsync()).GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToArray();

        // The confirming code's step is spent; the next login uses the next step's code.
        Clock.Advance(TimeSpan.FromSeconds(30));
        return (secret, codes);
    }

    private async Task<string> MfaTokenAsync(string email = Email)
    {
        using var login = await Client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Api.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        return (await login.ReadJsonAsync()).GetProperty("mfa_token").GetString()!;
    }

    private Task<HttpResponseMessage> AnswerAsync(string mfaToken, string code) => Client.PostAsJsonAsync("/api/v1/auth/mfa", new { mfa_token = mfaToken, code });

    private static string[] Amr(string accessToken) =>
        [.. JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(new JsonWebToken(accessToken).EncodedPayload)))
            .RootElement.GetProperty("amr").EnumerateArray().Select(v => v.GetString()!)];

    [Fact]
    public async Task Enrol_AnswersASecretAndAnOtpauthUri_ForSha1SixDigitsThirtySeconds()
    {
        var login = (await Client.RegisterAndLoginAsync(Email)).AccessToken;

        using var enrol = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp", login);

        Assert.Equal(HttpStatusCode.OK, enrol.StatusCode);
        Assert.Contains("no-store", enrol.Headers.CacheControl?.ToString());
        var json = await enrol.ReadJsonAsync();
        JsonAssert.HasExactly(json, "secret", "otpauth_uri");
        var secret = json.GetProperty("secret").GetString()!;
        Assert.Equal(20, ReferenceTotp.FromBase32(secret).Length);
        var uri = new Uri(json.GetProperty("otpauth_uri").GetString()!);
        Assert.Equal("otpauth", uri.Scheme);
        Assert.Equal("totp", uri.Host);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query);
        Assert.Equal(secret, query["secret"].ToString());
        Assert.Equal("SHA1", query["algorithm"].ToString());
        Assert.Equal("6", query["digits"].ToString());
        Assert.Equal("30", query["period"].ToString());
        Assert.Equal("TokenServer", query["issuer"].ToString());

        // Not on until confirmed: the password alone still logs in.
        using var plain = await Client.PostAsJsonAsync("/api/v1/auth/login", new { email = Email, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task Confirm_WithAWrongCode_Returns400_AndMfaStaysOff()
    {
        var login = (await Client.RegisterAndLoginAsync(Email)).AccessToken;
        using var enrol = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp", login);
        var secret = ReferenceTotp.FromBase32((await enrol.ReadJsonAsync()).GetProperty("secret").GetString()!);

        using var wrong = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp/confirm", login, new { code = ReferenceTotp.Code(secret, Clock.GetUtcNow().AddMinutes(5)) });
        using var missing = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp/confirm", login, new { });

        JsonAssert.IsProblem(wrong, HttpStatusCode.BadRequest);
        JsonAssert.IsProblem(missing, HttpStatusCode.BadRequest);
        using var plain = await Client.PostAsJsonAsync("/api/v1/auth/login", new { email = Email, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task Confirm_AnswersTenDistinctRecoveryCodes()
    {
        var (_, codes) = await AccountWithMfaAsync();

        Assert.Equal(10, codes.Length);
        Assert.Equal(10, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$", c));
    }

    [Fact]
    public async Task Login_OfAnMfaAccount_Answers401MfaRequired_ThenTheCodeGivesTheLoginAnswer_WithAmrPwdOtp()
    {
        var (secret, _) = await AccountWithMfaAsync();

        using var login = await Client.PostAsJsonAsync("/api/v1/auth/login", new { email = Email, password = Api.Password });

        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal("application/json", login.Content.Headers.ContentType?.MediaType);
        var challenge = await login.ReadJsonAsync();
        JsonAssert.HasExactly(challenge, "error", "mfa_token");
        Assert.Equal("mfa_required", challenge.GetProperty("error").GetString());

        using var answer = await AnswerAsync(challenge.GetProperty("mfa_token").GetString()!, ReferenceTotp.Code(secret, Clock.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("no-store", answer.Headers.CacheControl?.ToString());
        var tokens = await answer.ReadJsonAsync();
        JsonAssert.HasExactly(tokens, "access_token", "refresh_token", "token_type", "expires_in");
        Assert.Equal(["pwd", "otp"], Amr(tokens.GetProperty("access_token").GetString()!));
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);

        // A refreshed token keeps how its session was authenticated.
        using var refreshed = await Client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.GetProperty("refresh_token").GetString() });
        Assert.Equal(["pwd", "otp"], Amr((await refreshed.ReadJsonAsync()).GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task Login_WithTheWrongPassword_OfAnMfaAccount_IsAPlainFailure_WithNoMfaToken()
    {
        await AccountWithMfaAsync();

        using var login = await Client.PostAsJsonAsync("/api/v1/auth/login", new { email = Email, password = "not-the-password-1" });

        JsonAssert.IsProblem(login, HttpStatusCode.Unauthorized);
        Assert.False((await login.ReadJsonAsync()).TryGetProperty("mfa_token", out _));
    }

    [Fact]
    public async Task PasswordLogin_WithoutMfa_HasAmrPwd()
    {
        var tokens = await Client.RegisterAndLoginAsync("plain@example.org");

        Assert.Equal(["pwd"], Amr(tokens.AccessToken));
    }

    [Fact]
    public async Task ATotpCode_IsNotAcceptedTwice_WithinItsWindow()
    {
        var (secret, _) = await AccountWithMfaAsync();
        var code = ReferenceTotp.Code(secret, Clock.GetUtcNow());
        using (var first = await AnswerAsync(await MfaTokenAsync(), code))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var replay = await AnswerAsync(await MfaTokenAsync(), code);

        JsonAssert.IsProblem(replay, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ARecoveryCode_WorksOnce()
    {
        var (_, codes) = await AccountWithMfaAsync();

        using var first = await AnswerAsync(await MfaTokenAsync(), codes[3].ToUpperInvariant());
        using var again = await AnswerAsync(await MfaTokenAsync(), codes[3]);
        using var another = await AnswerAsync(await MfaTokenAsync(), codes[4].Replace("-", "", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        JsonAssert.IsProblem(again, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, another.StatusCode);
    }

    [Fact]
    public async Task AnMfaToken_ExpiresAfterFiveMinutes_AndIsSingleUse()
    {
        var (secret, _) = await AccountWithMfaAsync();
        var mfaToken = await MfaTokenAsync();

        Clock.Advance(TimeSpan.FromMinutes(5));
        using var late = await AnswerAsync(mfaToken, ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        JsonAssert.IsProblem(late, HttpStatusCode.Unauthorized);

        var fresh = await MfaTokenAsync();
        using var ok = await AnswerAsync(fresh, ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Clock.Advance(TimeSpan.FromSeconds(30));
        using var reused = await AnswerAsync(fresh, ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        JsonAssert.IsProblem(reused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnMfaToken_AllowsFiveWrongCodes_ThenRefusesEvenTheRightOne()
    {
        var (secret, _) = await AccountWithMfaAsync();
        var mfaToken = await MfaTokenAsync();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await AnswerAsync(mfaToken, "000000" == ReferenceTotp.Code(secret, Clock.GetUtcNow()) ? "111111" : "000000");
            JsonAssert.IsProblem(wrong, HttpStatusCode.Unauthorized);
        }

        using var right = await AnswerAsync(mfaToken, ReferenceTotp.Code(secret, Clock.GetUtcNow()));

        JsonAssert.IsProblem(right, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PasswordGrant_OfAnMfaAccount_Answers401MfaRequired_AndTheCodeGivesAnOAuthAnswer()
    {
        var (secret, _) = await AccountWithMfaAsync();

        using var grant = await Client.PostFormAsync("/api/v1/auth/token", [new("grant_type", "password"), new("username", Email), new("password", Api.Password)]);

        Assert.Equal(HttpStatusCode.Unauthorized, grant.StatusCode);
        var challenge = await grant.ReadJsonAsync();
        JsonAssert.HasExactly(challenge, "error", "mfa_token");
        Assert.Equal("mfa_required", challenge.GetProperty("error").GetString());

        using var answer = await AnswerAsync(challenge.GetProperty("mfa_token").GetString()!, ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var tokens = await answer.ReadJsonAsync();
        JsonAssert.HasExactly(tokens, "access_token", "token_type", "expires_in", "refresh_token");
        Assert.Equal("Bearer", tokens.GetProperty("token_type").GetString());
    }

    public static TheoryData<string, string, string?> DialectLogins => new()
    {
        { "/platform-api/api/core-api/auth/token/", "{\"username\":\"mfa\",\"password\":\"PASSWORD\"}", "application/json" },
        { "/api/login", "username=mfa&password=PASSWORD", "application/x-www-form-urlencoded" },
        { "/v1/login", "{\"username\":\"mfa\",\"password\":\"PASSWORD\"}", null },
        { "/login", "{\"email\":\"mfa@example.org\",\"password\":\"PASSWORD\"}", "application/json" },
    };

    [Theory]
    [MemberData(nameof(DialectLogins))]
    public async Task DialectLogin_OfAnMfaAccount_FailsInTheDialectsOwnShape_LikeAWrongPassword(string path, string body, string? contentType)
    {
        await AccountWithMfaAsync();

        using var mfa = await Client.SendAsync(Http.Raw(HttpMethod.Post, path, body.Replace("PASSWORD", Api.Password, StringComparison.Ordinal), contentType));
        using var wrong = await Client.SendAsync(Http.Raw(HttpMethod.Post, path, body.Replace("PASSWORD", "wrong-password-1", StringComparison.Ordinal), contentType));

        Assert.Equal(HttpStatusCode.Unauthorized, mfa.StatusCode);
        Assert.Equal(wrong.StatusCode, mfa.StatusCode);
        Assert.Equal(wrong.Content.Headers.ContentType?.ToString(), mfa.Content.Headers.ContentType?.ToString());
        Assert.Equal(await wrong.Content.ReadAsStringAsync(), await mfa.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Disable_WithACode_TurnsMfaOff_AndAWrongCodeIsRefused()
    {
        var (secret, _) = await AccountWithMfaAsync();
        using var answered = await AnswerAsync(await MfaTokenAsync(), ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        var access = (await answered.ReadJsonAsync()).GetProperty("access_token").GetString()!;
        Clock.Advance(TimeSpan.FromSeconds(30));

        using var wrong = await SendAsync(HttpMethod.Delete, "/api/v1/auth/mfa/totp", access, new { code = "12345" });
        JsonAssert.IsProblem(wrong, HttpStatusCode.BadRequest);

        using var disabled = await SendAsync(HttpMethod.Delete, "/api/v1/auth/mfa/totp", access, new { code = ReferenceTotp.Code(secret, Clock.GetUtcNow()) });
        Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);

        var tokens = await Client.LoginAsync(Email);
        Assert.Equal(["pwd"], Amr(tokens.AccessToken));
    }

    [Fact]
    public async Task Enrol_WhenMfaIsOn_Returns409_AndAPersonalAccessTokenCannotEnrol()
    {
        var (secret, _) = await AccountWithMfaAsync();
        using var answered = await AnswerAsync(await MfaTokenAsync(), ReferenceTotp.Code(secret, Clock.GetUtcNow()));
        var access = (await answered.ReadJsonAsync()).GetProperty("access_token").GetString()!;

        using var again = await SendAsync(HttpMethod.Post, "/api/v1/auth/mfa/totp", access);
        JsonAssert.IsProblem(again, HttpStatusCode.Conflict);

        using var created = await SendAsync(HttpMethod.Post, "/api/v1/auth/personal-access-tokens", access, new { name = "ci", scopes = new[] { "write" } });
        var pat = (await created.ReadJsonAsync()).GetProperty("token").GetString()!;
        using var byPat = await SendAsync(HttpMethod.Delete, "/api/v1/auth/mfa/totp", pat, new { code = "123456" });
        JsonAssert.IsProblem(byPat, HttpStatusCode.Forbidden);

        // The way in for a script of an MFA account: its personal access token.
        using var me = await Client.GetWithTokenAsync("/api/v1/auth/me", pat);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task MfaAnswers_AreRateLimited()
    {
        factory.Settings["TokenServer:RateLimits:PermitLimit"] = "3";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await AnswerAsync("x", "123456");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
    }
}
