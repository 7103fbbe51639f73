using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Organizations;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.PersonalAccessTokens;

/// <summary>What a creation answers: the new token (shown once), per-field mistakes, or a refusal (403).</summary>
public sealed record PersonalAccessTokenCreation(
    CreatedPersonalAccessToken? Created,
    Dictionary<string, string[]>? Errors = null,
    string? RefusalTitle = null,
    string? RefusalDetail = null);

/// <summary>
/// A person's own personal access tokens (CONTRACTS.md "Personal access tokens"): created, listed
/// and revoked by <c>/api/v1/auth/personal-access-tokens</c> and the account page alike.
/// </summary>
public sealed class PersonalAccessTokenIssuer(
    TokenServerDb db, PersonalAccessTokenRevocation revocation, AuditLog audit, IOptions<PersonalAccessTokenOptions> options, TimeProvider time)
{
    public const int MaxNameLength = 100;
    public const string NameField = "name";
    public const string ScopesField = "scopes";
    public const string ExpiresAtField = "expires_at";

    public PersonalAccessTokenOptions Options => options.Value;

    /// <summary>Creates a token of at most the account's own role, expiring by <paramref name="expiresAt"/> (or the default lifetime).</summary>
    public async Task<PersonalAccessTokenCreation> CreateAsync(long accountId, string? name, IReadOnlyList<string>? requestedScopes, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            errors[NameField] = [$"Give the token a name of 1 to {MaxNameLength} characters (no control characters) that says what uses it."];
        }

        if (requestedScopes is not { Count: > 0 } || requestedScopes.Any(s => PersonalAccessTokenScopes.Level(s) == 0))
        {
            errors[ScopesField] = ["Choose at least one scope of \"read\", \"write\" and \"admin\"."];
        }

        var expiry = expiresAt ?? now + o.DefaultLifetime;
        if (expiry <= now || expiry > now + o.MaxLifetime)
        {
            errors[ExpiresAtField] = [$"Choose an expiry in the future and at most {o.MaxLifetime.TotalDays:0.##} days from now (before {now + o.MaxLifetime:O}), or leave it out for {o.DefaultLifetime.TotalDays:0.##} days."];
        }

        if (errors.Count > 0)
        {
            return new PersonalAccessTokenCreation(null, errors);
        }

        var account = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == accountId && a.Status == AccountStatuses.Active)
            .Select(a => new { a.Id, a.Role, IsServiceUser = db.Set<ServiceUser>().Any(s => s.AccountId == a.Id) })
            .FirstOrDefaultAsync(cancellationToken);
        if (account is null || account.IsServiceUser)
        {
            return new PersonalAccessTokenCreation(null, RefusalTitle: "Not a person's account",
                RefusalDetail: "Personal access tokens are for people's active accounts. A service user's tokens are made by an organization admin (POST /api/v1/organizations/{slug}/service-users/{id}/tokens).");
        }

        var scopes = PersonalAccessTokenScopes.All.Where(s => requestedScopes!.Contains(s, StringComparer.Ordinal)).ToList();
        var maxLevel = PersonalAccessTokenScopes.MaxLevelFor(account.Role);
        if (scopes.FirstOrDefault(s => PersonalAccessTokenScopes.Level(s) > maxLevel) is { } tooMuch)
        {
            return new PersonalAccessTokenCreation(null, RefusalTitle: "Scope beyond your role",
                RefusalDetail: $"Your role ({account.Role}) cannot grant the '{tooMuch}' scope: a token never holds more than its creator. Ask for {string.Join(", ", ScopesFor(account.Role))}.");
        }

        var token = PersonalAccessTokenFormat.Generate();
        var row = new PersonalAccessToken
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            AccountId = account.Id,
            Name = name!,
            TokenHash = OpaqueTokens.Hash(token),
            Scopes = string.Join(' ', scopes),
            CreatedAt = now,
            ExpiresAt = expiry,
        };
        db.Set<PersonalAccessToken>().Add(row);
        audit.Record(PersonalAccessTokenAuditEvents.Created, account.Id, $"token {row.Id} ({row.Scopes}) until {expiry:O}");
        await db.SaveChangesAsync(cancellationToken);
        return new PersonalAccessTokenCreation(new CreatedPersonalAccessToken(row.Id, row.Name, scopes, row.ExpiresAt, token));
    }

    /// <summary>The scopes an account of this role may grant.</summary>
    public static IEnumerable<string> ScopesFor(string role) =>
        PersonalAccessTokenScopes.All.Where(s => PersonalAccessTokenScopes.Level(s) <= PersonalAccessTokenScopes.MaxLevelFor(role));

    /// <summary>The account's tokens that are not revoked, newest first (never the token itself).</summary>
    public async Task<List<PersonalAccessTokenResponse>> ListAsync(long accountId, CancellationToken cancellationToken)
    {
        var rows = await db.Set<PersonalAccessToken>().AsNoTracking()
            .Where(t => t.AccountId == accountId && t.RevokedAt == null)
            .OrderByDescending(t => t.CreatedAt)
            .ToListAsync(cancellationToken);
        return rows.Select(t => new PersonalAccessTokenResponse(t.Id, t.Name, t.Scopes.Split(' '), t.CreatedAt, t.ExpiresAt, t.LastUsedAt)).ToList();
    }

    /// <summary>Revokes one live token of the account; false if it has none with this id.</summary>
    public async Task<bool> RevokeAsync(long accountId, string id, CancellationToken cancellationToken)
    {
        if (!await revocation.RevokeAsync(accountId, id, cancellationToken))
        {
            return false;
        }

        audit.Record(PersonalAccessTokenAuditEvents.Revoked, accountId, $"token {id}");
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
