using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Mfa;
using TokenServer.Oidc;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Federation;

public static class FederationAuditTypes
{
    public const string SignedIn = "federation.signed_in";
    public const string Linked = "federation.linked";
    public const string Unlinked = "federation.unlinked";
    public const string Refused = "federation.refused";
}

/// <summary>What became of an upstream sign-in.</summary>
public enum FederationOutcome
{
    SignedIn,

    /// <summary>An account with the upstream email exists and is not linked: only its password links it (<c>/signin/link</c>).</summary>
    PasswordNeeded,

    /// <summary>The provider shared no email address, so no account can be made.</summary>
    NoEmail,

    /// <summary>The linked account is disabled.</summary>
    Disabled,

    /// <summary>
    /// The account has MFA on: the sign-in page asks for its code (<see cref="FederatedSignIn.SecondFactorCookie"/>)
    /// before any session starts; an upstream sign-in is not this account's second factor.
    /// </summary>
    CodeNeeded,

    /// <summary>Another sign-in changed the same account or link at the same moment, and no link was found after it: signing in again decides afresh.</summary>
    Crossed,
}

public enum UnlinkOutcome
{
    Unlinked,
    NotFound,

    /// <summary>The account has no usable password and no other link: unlinking would lock it out.</summary>
    LastWayIn,
}

/// <summary>
/// Turns an upstream sign-in into a TokenServer account (docs/decisions.md "Upstream identity
/// providers"): a known (provider, subject) signs in to its account; otherwise a signed-in
/// browser that asked to link gets the link; an email that an existing account already has is
/// never linked by itself, whatever either side says about verification (the takeover class of
/// Keycloak issue 53041): the account's password must link it; any other email makes a new
/// account without a password.
/// </summary>
public sealed class FederatedSignIn(
    TokenServerDb db,
    AccountRegistry registry,
    BrowserSessions browser,
    MultiFactor mfa,
    AuditLog audit,
    IOptions<ExternalProvidersOptions> options,
    TimeProvider time,
    ILogger<FederatedSignIn> log)
{
    public async Task<FederationOutcome> CompleteAsync(HttpContext context, UpstreamIdentity upstream, CancellationToken cancellationToken)
    {
        var provider = ExternalProvidersOptions.Key(upstream.Provider);
        if (await FindLinkAsync(upstream, cancellationToken) is { } known)
        {
            return await SignInLinkedAsync(context, known, upstream, cancellationToken);
        }

        if (upstream.LinkAccountId is { } linkTo && await BrowserSessions.CurrentAsync(context) is { } current && current.AccountId == linkTo)
        {
            // Linking from the account page: the signed-in browser session proves the account.
            var account = await db.Accounts.FirstAsync(a => a.Id == linkTo, cancellationToken);
            return await SignInAsync(context, account, Link(account, upstream), upstream, cancellationToken);
        }

        if (upstream.Email is null)
        {
            audit.Record(FederationAuditTypes.Refused, null, $"{provider}: no email address shared");
            await db.SaveChangesAsync(cancellationToken);
            return FederationOutcome.NoEmail;
        }

        if (await FindByEmailAsync(upstream.Email, cancellationToken) is { } existing)
        {
            if (await FindLinkAsync(upstream, cancellationToken) is { } raced)
            {
                // The account of a concurrent first sign-in of this same person, stored with its link after the lookup above.
                return await SignInLinkedAsync(context, raced, upstream, cancellationToken);
            }

            audit.Record(FederationAuditTypes.Refused, existing.Id, $"{provider}: email matches an unlinked account; its password is needed to link (upstream email_verified {upstream.EmailVerified.ToString().ToLowerInvariant()})");
            await db.SaveChangesAsync(cancellationToken);
            return FederationOutcome.PasswordNeeded;
        }

        if (await CreateLinkedAsync(upstream, cancellationToken) is { } created)
        {
            return await SignInAsync(context, created.Account, created.Link, upstream, cancellationToken);
        }

        // A concurrent first sign-in of this same person stored its account and link first: sign in to that one.
        return await FindLinkAsync(upstream, cancellationToken) is { } winner
            ? await SignInLinkedAsync(context, winner, upstream, cancellationToken)
            : FederationOutcome.Crossed;
    }

    /// <summary>Links after the account's password was checked on the link page, then signs in.</summary>
    public async Task<FederationOutcome> LinkAndSignInAsync(HttpContext context, Account account, UpstreamIdentity upstream, CancellationToken cancellationToken)
    {
        var existing = await FindLinkAsync(upstream, cancellationToken);
        return existing is not null && existing.AccountId != account.Id
            ? FederationOutcome.PasswordNeeded
            : await SignInAsync(context, account, existing ?? Link(account, upstream), upstream, cancellationToken);
    }

    /// <summary>
    /// A new account without a password for the upstream person, stored in one transaction with
    /// its link, so that no account is left without the link that is its only way in, and whoever
    /// sees the account also sees the link. Null when the address was taken meanwhile (a concurrent
    /// first sign-in of the same person, or another registration): nothing is stored then.
    /// </summary>
    private async Task<(Account Account, FederatedIdentity Link)?> CreateLinkedAsync(UpstreamIdentity upstream, CancellationToken cancellationToken)
    {
        var provider = ExternalProvidersOptions.Key(upstream.Provider);
        await using var transaction = await db.BeginWriteTransactionAsync(cancellationToken);
        var (account, conflict) = await registry.CreateAsync(
            new NewAccount(upstream.Email!, null, string.IsNullOrWhiteSpace(upstream.Name) ? upstream.Email! : upstream.Name.Trim(), AccountRoles.Researcher, null)
            {
                // Only an address the provider says it verified counts as verified here.
                EmailVerifiedAt = upstream.EmailVerified ? time.GetUtcNow() : null,
            },
            null,
            cancellationToken);
        if (account is null)
        {
            log.LogInformation("Upstream sign-in through {Provider} raced a registration ({Conflict})", provider, conflict);
            return null;
        }

        var link = Link(account, upstream);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique (provider, subject) index: the same person was linked meanwhile.
            log.LogInformation("Upstream sign-in through {Provider} raced another link of the same subject", provider);
            db.ChangeTracker.Clear();
            return null;
        }

        await transaction.CommitAsync(cancellationToken);
        return (account, link);
    }

    private Task<FederatedIdentity?> FindLinkAsync(UpstreamIdentity upstream, CancellationToken cancellationToken)
    {
        var provider = ExternalProvidersOptions.Key(upstream.Provider);
        return db.Set<FederatedIdentity>().FirstOrDefaultAsync(f => f.Provider == provider && f.Subject == upstream.Subject, cancellationToken);
    }

    private async Task<FederationOutcome> SignInLinkedAsync(HttpContext context, FederatedIdentity link, UpstreamIdentity upstream, CancellationToken cancellationToken) =>
        await SignInAsync(context, await db.Accounts.FirstAsync(a => a.Id == link.AccountId, cancellationToken), link, upstream, cancellationToken);

    /// <summary>The account holding this email address as its email or username, if any.</summary>
    public Task<Account?> FindByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var normalized = CredentialChecker.Normalize(email);
        return db.Accounts.FirstOrDefaultAsync(a => a.NormalizedEmail == normalized || a.NormalizedUsername == normalized, cancellationToken);
    }

    public async Task<UnlinkOutcome> UnlinkAsync(long accountId, string provider, CancellationToken cancellationToken)
    {
        var key = ExternalProvidersOptions.Key(provider);
        var links = await db.Set<FederatedIdentity>().Where(f => f.AccountId == accountId).ToListAsync(cancellationToken);
        var link = links.FirstOrDefault(f => f.Provider == key);
        if (link is null)
        {
            return UnlinkOutcome.NotFound;
        }

        var hash = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PasswordHash).FirstAsync(cancellationToken);
        if (links.Count == 1 && !PasswordHasher.IsUsable(hash))
        {
            return UnlinkOutcome.LastWayIn;
        }

        db.Remove(link);
        await RemoveMappedAsync(accountId, key, keep: [], cancellationToken);
        audit.Record(FederationAuditTypes.Unlinked, accountId, $"{key} subject {link.Subject}", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return UnlinkOutcome.Unlinked;
    }

    private FederatedIdentity Link(Account account, UpstreamIdentity upstream)
    {
        var now = time.GetUtcNow();
        var link = new FederatedIdentity
        {
            Provider = ExternalProvidersOptions.Key(upstream.Provider),
            Issuer = upstream.Issuer,
            Subject = upstream.Subject,
            AccountId = account.Id,
            CreatedAt = now,
            LastUsedAt = now,
        };
        db.Add(link);
        audit.Record(FederationAuditTypes.Linked, account.Id, $"{link.Provider} subject {link.Subject}", account.Id);
        return link;
    }

    /// <summary>The MFA challenge of a federated sign-in, for the sign-in page's code step: HttpOnly, this site's sign-in path only, as short-lived as the challenge.</summary>
    public const string SecondFactorCookie = "tokenserver.mfa";

    /// <summary>
    /// After the sign-in page checked the code of a <see cref="MfaChallengeKinds.BrowserFederated"/>
    /// challenge: finishes the upstream sign-in still held in the external cookie, if it is this account's.
    /// </summary>
    public async Task<bool> CompleteAfterSecondFactorAsync(HttpContext context, long accountId, CancellationToken cancellationToken)
    {
        var upstream = UpstreamIdentity.From(await context.AuthenticateAsync(FederationSetup.ExternalScheme));
        if (upstream is null)
        {
            return false;
        }

        var provider = ExternalProvidersOptions.Key(upstream.Provider);
        var link = await db.Set<FederatedIdentity>().FirstOrDefaultAsync(f => f.Provider == provider && f.Subject == upstream.Subject && f.AccountId == accountId, cancellationToken);
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        return link is not null && account is not null
            && await SignInAsync(context, account, link, upstream, cancellationToken, secondFactorChecked: true) == FederationOutcome.SignedIn;
    }

    private async Task<FederationOutcome> SignInAsync(HttpContext context, Account account, FederatedIdentity link, UpstreamIdentity upstream, CancellationToken cancellationToken, bool secondFactorChecked = false)
    {
        if (account.Status != AccountStatuses.Active)
        {
            audit.Record(FederationAuditTypes.Refused, account.Id, $"{link.Provider}: account disabled");
            await db.SaveChangesAsync(cancellationToken);
            return FederationOutcome.Disabled;
        }

        if (!secondFactorChecked && await mfa.IsOnAsync(account.Id, cancellationToken))
        {
            // The link (if new) is kept; the session waits for the code (docs/security.md, "Upstream identity providers").
            await db.SaveChangesAsync(cancellationToken);
            var challenge = await mfa.ChallengeAsync(account.Id, MfaChallengeKinds.BrowserFederated, BrowserSessions.ClientId, cancellationToken);
            context.Response.Cookies.Append(SecondFactorCookie, challenge, new CookieOptions
            {
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                Path = "/signin",
                MaxAge = MultiFactor.ChallengeLifetime,
                IsEssential = true,
            });
            return FederationOutcome.CodeNeeded;
        }

        var now = time.GetUtcNow();
        link.LastUsedAt = now;
        account.LastLoginAt = now;
        await ApplyMappingsAsync(account.Id, upstream, cancellationToken);
        audit.Record(FederationAuditTypes.SignedIn, account.Id, $"{link.Provider} subject {link.Subject}", dialect: BrowserSessions.Dialect);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique (provider, subject) index: a link made from a signed-in session or by
            // password raced another link of the same person; a fresh sign-in decides again.
            log.LogInformation("Upstream sign-in through {Provider} raced another link of the same subject", link.Provider);
            db.ChangeTracker.Clear();
            return FederationOutcome.Crossed;
        }

        var methods = secondFactorChecked ? [.. upstream.SignInMethods.Where(m => m != "otp"), "otp"] : upstream.SignInMethods;
        await browser.SignInAsync(context, account, cancellationToken, methods, upstream.Acr);
        await context.SignOutAsync(FederationSetup.ExternalScheme);
        return FederationOutcome.SignedIn;
    }

    /// <summary>
    /// The provider's claim mappings, applied again at every sign-in: a membership the claims grant
    /// is added (or its role follows the mapping), one they granted before and no longer do is
    /// removed. Memberships made by hand are left alone.
    /// </summary>
    private async Task ApplyMappingsAsync(long accountId, UpstreamIdentity upstream, CancellationToken cancellationToken)
    {
        var provider = ExternalProvidersOptions.Key(upstream.Provider);
        var mappings = options.Value.Find(upstream.Provider)?.ClaimMappings ?? [];
        var granted = mappings
            .Where(m => upstream.Claims.Any(c => c.Type == m.Claim && c.Value == m.Value))
            .GroupBy(m => m.Organization!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Any(m => m.Role == MembershipRoles.Admin) ? MembershipRoles.Admin : MembershipRoles.Member, StringComparer.Ordinal);
        var slugs = granted.Keys.ToList();
        var organizations = await db.Organizations.Where(o => slugs.Contains(o.Slug)).ToDictionaryAsync(o => o.Slug, o => o.Id, StringComparer.Ordinal, cancellationToken);
        foreach (var missing in slugs.Except(organizations.Keys))
        {
            log.LogWarning("{Section}:{Provider}:ClaimMappings names organization '{Slug}', which does not exist; create it or correct the mapping", ExternalProvidersOptions.Section, upstream.Provider, missing);
        }

        await RemoveMappedAsync(accountId, provider, [.. organizations.Values], cancellationToken);
        var memberships = await db.Memberships.Where(m => m.AccountId == accountId).ToListAsync(cancellationToken);
        var mapped = await db.Set<MappedMembership>().Where(m => m.AccountId == accountId).ToListAsync(cancellationToken);
        foreach (var (slug, organizationId) in organizations)
        {
            var role = granted[slug];
            var membership = memberships.FirstOrDefault(m => m.OrganizationId == organizationId);
            if (membership is null)
            {
                db.Memberships.Add(new Membership { AccountId = accountId, OrganizationId = organizationId, Role = role, CreatedAt = time.GetUtcNow() });
                db.Add(new MappedMembership { AccountId = accountId, OrganizationId = organizationId, Provider = provider });
                audit.Record(AuditEventTypes.MembershipAdded, accountId, $"{slug} as {role} (claim mapping of {provider})");
            }
            else if (membership.Role != role && mapped.Any(m => m.OrganizationId == organizationId && m.Provider == provider))
            {
                membership.Role = role;
                audit.Record(AuditEventTypes.MembershipAdded, accountId, $"{slug} as {role} (claim mapping of {provider})");
            }
        }
    }

    /// <summary>Removes the memberships this provider's mapping granted, except in the organizations in <paramref name="keep"/>.</summary>
    private async Task RemoveMappedAsync(long accountId, string provider, IReadOnlyCollection<long> keep, CancellationToken cancellationToken)
    {
        var stale = await db.Set<MappedMembership>()
            .Where(m => m.AccountId == accountId && m.Provider == provider && !keep.Contains(m.OrganizationId))
            .ToListAsync(cancellationToken);
        foreach (var row in stale)
        {
            var membership = await db.Memberships.Include(m => m.Organization).FirstAsync(m => m.AccountId == accountId && m.OrganizationId == row.OrganizationId, cancellationToken);
            db.Remove(row);
            db.Memberships.Remove(membership);
            audit.Record(AuditEventTypes.MembershipRemoved, accountId, $"{membership.Organization.Slug} (claim mapping of {provider} no longer grants it)");
        }
    }
}
