using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using TokenServer.Auth;
using TokenServer.Email;
using TokenServer.Mfa;
using TokenServer.Oidc;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Pages;

/// <summary>
/// The signed-in person's account (README "The account page"): profile, email, password, sessions, authorized
/// apps, personal access tokens and MFA. Each form calls the same service as its API route; the
/// page adds only the browser's rules: sign-in required, anti-forgery on every form (Razor Pages
/// validates it on every POST), recent sign-in before adding a way in (docs/decisions.md).
/// </summary>
public sealed class AccountModel(
    TokenServerDb db,
    AccountRegistry registry,
    EmailChange emailChange,
    OutgoingMail mails,
    PasswordChange passwordChange,
    AccountSessions accountSessions,
    AuthorizedApps apps,
    PersonalAccessTokenIssuer tokens,
    MultiFactor mfa,
    CredentialChecker credentials,
    BrowserSessions browser,
    TimeProvider time) : PageModel
{
    /// <summary>How long after a password sign-in the page adds a way in (a token, an authenticator) without asking for the password again.</summary>
    public static readonly TimeSpan RecentSignIn = TimeSpan.FromMinutes(5);

    public static readonly int[] TokenLifetimeChoices = [7, 30, 90, 365];

    public new BrowserUser User { get; private set; } = null!;

    public Account Account { get; private set; } = null!;

    public IReadOnlyList<SessionResponse> Sessions { get; private set; } = [];

    public IReadOnlyList<AuthorizedApp> Apps { get; private set; } = [];

    public IReadOnlyList<PersonalAccessTokenResponse> Tokens { get; private set; } = [];

    public IReadOnlyList<string> GrantableScopes { get; private set; } = [];

    public IReadOnlyList<int> TokenLifetimes { get; private set; } = [];

    public MfaState Mfa { get; private set; }

    /// <summary>Shown once, in the answer to the form that made them; never stored in the clear.</summary>
    public CreatedPersonalAccessToken? NewToken { get; private set; }

    public TotpEnrolmentResponse? Enrolment { get; private set; }

    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    [TempData]
    public string? Status { get; set; }

    [BindProperty]
    public string? FullName { get; set; }

    [BindProperty]
    public string? NewEmail { get; set; }

    [BindProperty]
    public string? EmailPassword { get; set; }

    [BindProperty]
    public string? CurrentPassword { get; set; }

    [BindProperty]
    public string? NewPassword { get; set; }

    [BindProperty]
    public string? TokenName { get; set; }

    [BindProperty]
    public List<string> TokenScopes { get; set; } = [];

    [BindProperty]
    public int? TokenDays { get; set; }

    /// <summary>The password again, asked only when the sign-in is older than <see cref="RecentSignIn"/>.</summary>
    [BindProperty]
    public string? ConfirmPassword { get; set; }

    [BindProperty]
    public string? MfaCode { get; set; }

    [BindProperty]
    public string? DisableCode { get; set; }

    public bool SignedInRecently => time.GetUtcNow() - User.AuthTime <= RecentSignIn;

    public string? ErrorFor(string key) =>
        ModelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0 ? entry.Errors[0].ErrorMessage : null;

    public static string When(DateTimeOffset? at) => at?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "never";

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        // The page shows secrets once (new tokens, recovery codes): never kept by a cache.
        Response.Headers.CacheControl = "no-store";
        if (await BrowserSessions.CurrentAsync(HttpContext) is not { } user)
        {
            context.Result = Redirect(QueryHelpers.AddQueryString("/signin", "returnUrl", "/account"));
            return;
        }

        User = user;
        await next();
    }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostNameAsync(CancellationToken cancellationToken) =>
        await registry.RenameAsync(User.AccountId, FullName, cancellationToken) is { } problem
            ? await InvalidAsync(nameof(FullName), problem, cancellationToken)
            : Done("Your name was saved.", "profile");

    public async Task<IActionResult> OnPostEmailAsync(CancellationToken cancellationToken)
    {
        var (error, _) = await emailChange.RequestAsync(User.AccountId, NewEmail, EmailPassword, BrowserSessions.Dialect, cancellationToken);
        EmailPassword = null;
        return error is null
            ? Done($"We sent a confirmation link to {NewEmail!.Trim()}. Your address changes when you follow it.", "email")
            : await InvalidAsync(error.Field == EmailChange.PasswordField ? nameof(EmailPassword) : nameof(NewEmail), error.Message, cancellationToken);
    }

    public IActionResult OnPostResendVerification()
    {
        mails.Enqueue(new MailJob.Verify(User.AccountId));
        return Done("If your address is not yet verified, a new verification link is on its way.", "email");
    }

    public async Task<IActionResult> OnPostPasswordAsync(CancellationToken cancellationToken)
    {
        var error = await passwordChange.ChangeAsync(User.AccountId, User.SessionId, CurrentPassword, NewPassword, BrowserSessions.Dialect, cancellationToken);
        CurrentPassword = NewPassword = null;
        return error is null
            ? Done("Your password was changed. Every other session was signed out.", "password")
            : await InvalidAsync(error.Field == PasswordChange.NewPasswordField ? nameof(NewPassword) : nameof(CurrentPassword), error.Message, cancellationToken);
    }

    public async Task<IActionResult> OnPostEndSessionAsync(string? id, CancellationToken cancellationToken)
    {
        if (id == User.SessionId)
        {
            return Redirect("/logout");
        }

        return id is not null && await accountSessions.EndAsync(User.AccountId, id, cancellationToken)
            ? Done("The session was ended.", "sessions")
            : Done("That session had already ended.", "sessions");
    }

    public async Task<IActionResult> OnPostEndOtherSessionsAsync(CancellationToken cancellationToken)
    {
        var count = await accountSessions.EndOthersAsync(User.AccountId, User.SessionId, cancellationToken);
        return Done(count == 1 ? "1 other session was ended." : $"{count} other sessions were ended.", "sessions");
    }

    public async Task<IActionResult> OnPostRevokeAppAsync(string? clientId, CancellationToken cancellationToken) =>
        clientId is not null && await apps.RevokeAsync(User.AccountId, clientId, cancellationToken)
            ? Done("The app's access was removed and its sessions ended. It must ask you again.", "apps")
            : Done("That app had no access.", "apps");

    public async Task<IActionResult> OnPostCreateTokenAsync(CancellationToken cancellationToken)
    {
        if (!await ReauthenticateAsync(cancellationToken))
        {
            return await InvalidAsync(nameof(ConfirmPassword), "Enter your password to confirm it is you (your sign-in is more than a few minutes old).", cancellationToken);
        }

        var expiresAt = TokenDays is { } days ? time.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
        var result = await tokens.CreateAsync(User.AccountId, TokenName, TokenScopes, expiresAt, cancellationToken);
        if (result.Created is null)
        {
            foreach (var (field, messages) in result.Errors ?? new() { [PersonalAccessTokenIssuer.ScopesField] = [result.RefusalDetail!] })
            {
                ModelState.AddModelError(field switch
                {
                    PersonalAccessTokenIssuer.NameField => nameof(TokenName),
                    PersonalAccessTokenIssuer.ScopesField => nameof(TokenScopes),
                    _ => nameof(TokenDays),
                }, messages[0]);
            }

            return await InvalidAsync(null, null, cancellationToken);
        }

        NewToken = result.Created;
        TokenName = null;
        TokenScopes = [];
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeTokenAsync(string? id, CancellationToken cancellationToken) =>
        id is not null && await tokens.RevokeAsync(User.AccountId, id, cancellationToken)
            ? Done("The token was revoked; it stops working at once.", "tokens")
            : Done("That token was already revoked.", "tokens");

    public async Task<IActionResult> OnPostEnrolMfaAsync(CancellationToken cancellationToken)
    {
        if (!await ReauthenticateAsync(cancellationToken))
        {
            return await InvalidAsync(nameof(ConfirmPassword), "Enter your password to confirm it is you (your sign-in is more than a few minutes old).", cancellationToken);
        }

        Enrolment = await mfa.StartEnrolmentAsync(User.AccountId, cancellationToken);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostConfirmMfaAsync(CancellationToken cancellationToken)
    {
        var codes = string.IsNullOrWhiteSpace(MfaCode) ? null : await mfa.ConfirmAsync(User.AccountId, MfaCode.Trim(), cancellationToken);
        MfaCode = null;
        if (codes is null)
        {
            return await InvalidAsync(nameof(MfaCode), "That code does not match. Check the time on your device and enter the current 6-digit code, or start again.", cancellationToken);
        }

        RecoveryCodes = codes;
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostDisableMfaAsync(CancellationToken cancellationToken)
    {
        var off = !string.IsNullOrWhiteSpace(DisableCode) && await mfa.DisableAsync(User.AccountId, DisableCode, cancellationToken);
        DisableCode = null;
        return off
            ? Done("Two-factor sign-in is off.", "mfa")
            : await InvalidAsync(nameof(DisableCode), "Enter a current code from your authenticator app, or an unused recovery code.", cancellationToken);
    }

    /// <summary>True when the sign-in is recent, or the password given now is right (then the sign-in counts as fresh again).</summary>
    private async Task<bool> ReauthenticateAsync(CancellationToken cancellationToken)
    {
        if (SignedInRecently)
        {
            return true;
        }

        var email = await db.Accounts.AsNoTracking().Where(a => a.Id == User.AccountId).Select(a => a.Email).FirstAsync(cancellationToken);
        var check = await credentials.CheckAsync(email, ConfirmPassword, BrowserSessions.Dialect, cancellationToken, CredentialUse.Reauthenticate);
        ConfirmPassword = null;
        if (!check.PasswordMatched)
        {
            return false;
        }

        await browser.SignInAsync(HttpContext, check.Account!, cancellationToken, User.Amr);
        User = User with { AuthTime = time.GetUtcNow() };
        return true;
    }

    /// <summary>Post/redirect/get: the message survives the redirect in TempData; the fragment returns to the section.</summary>
    private RedirectResult Done(string message, string section)
    {
        Status = message;
        return Redirect("/account#" + section);
    }

    private async Task<PageResult> InvalidAsync(string? key, string? message, CancellationToken cancellationToken)
    {
        if (key is not null)
        {
            ModelState.AddModelError(key, message!);
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Account = await db.Accounts.AsNoTracking().FirstAsync(a => a.Id == User.AccountId, cancellationToken);
        FullName ??= Account.FullName;
        Sessions = await accountSessions.ListAsync(User.AccountId, User.SessionId, cancellationToken);
        Apps = await apps.ListAsync(User.AccountId, cancellationToken);
        Tokens = await tokens.ListAsync(User.AccountId, cancellationToken);
        GrantableScopes = [.. PersonalAccessTokenIssuer.ScopesFor(Account.Role)];
        var maxDays = (int)tokens.Options.MaxLifetime.TotalDays;
        TokenLifetimes = TokenLifetimeChoices.Where(d => d <= maxDays).DefaultIfEmpty(Math.Max(maxDays, 1)).ToList();
        TokenDays ??= TokenLifetimes.Contains((int)tokens.Options.DefaultLifetime.TotalDays) ? (int)tokens.Options.DefaultLifetime.TotalDays : TokenLifetimes[0];
        Mfa = await mfa.StateAsync(User.AccountId, cancellationToken);
    }
}
