namespace TokenServer.Store;

/// <summary>A person's account. Email and username are unique case-insensitively through their normalised columns.</summary>
public sealed class Account
{
    public const int PasswordHashMaxLength = 1000;

    public long Id { get; set; }
    public required string Email { get; set; }
    public required string NormalizedEmail { get; set; }
    public string? Username { get; set; }
    public string? NormalizedUsername { get; set; }
    public required string FullName { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public required string Status { get; set; }
    public bool IsActivated { get; set; }
    /// <summary>When the address was proven by a link mailed to it; null until then (TokenServer:Email:Verification).</summary>
    public DateTimeOffset? EmailVerifiedAt { get; set; }
    /// <summary>Changes whenever credentials change; lets a future check invalidate anything derived from the old ones.</summary>
    public required string SecurityStamp { get; set; }
    /// <summary>The end of the account-wide lock (<see cref="LoginThrottle"/>), kept here for the admin listing.</summary>
    public DateTimeOffset? LockoutEnd { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }
    public List<Membership> Memberships { get; set; } = [];
}

public sealed class Organization
{
    public long Id { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public bool SsoEnabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<Membership> Memberships { get; set; } = [];
}

/// <summary>An account's role inside one organization (<see cref="MembershipRoles"/>).</summary>
public sealed class Membership
{
    public long AccountId { get; set; }
    public Account Account { get; set; } = null!;
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One login: the chain of refresh tokens it hands out and the <c>sid</c> claim of every
/// access token issued in it. Revoking the session revokes all of them.
/// </summary>
public sealed class LoginSession
{
    public required string Id { get; set; }
    public long AccountId { get; set; }
    public Account Account { get; set; } = null!;
    public required string Dialect { get; set; }
    public required string ClientId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastUsedAt { get; set; }
    /// <summary>Absolute end of the session: no refresh past it, whatever the refresh token says.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
    public string? UserAgent { get; set; }
    public string? ClientAddress { get; set; }

    /// <summary>
    /// The browser session (single sign-on, docs/oidc.md) this session was granted from, if any:
    /// ending that session ends this one too (OpenID Connect RP-Initiated Logout 1.0 §2).
    /// </summary>
    public string? ParentSessionId { get; set; }

    /// <summary>The OAuth scope granted to this session's client, repeated in every access token it issues (RFC 9068 §2.2.3).</summary>
    public string? Scope { get; set; }

    /// <summary>The <c>aud</c> of this session's access tokens when it is not the server's default.</summary>
    public string? Audience { get; set; }
    /// <summary>How the person proved who they are, as RFC 8176 <c>amr</c> values separated by spaces ("pwd otp"); null when no person signed in (a client's credentials).</summary>
    public string? AuthenticationMethods { get; set; }
    public List<RefreshToken> RefreshTokens { get; set; } = [];
}

/// <summary>A refresh token, kept only as its SHA-256 hash. Single use: <see cref="ConsumedAt"/> is set when redeemed.</summary>
public sealed class RefreshToken
{
    public long Id { get; set; }
    public required string SessionId { get; set; }
    public LoginSession Session { get; set; } = null!;
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>
/// An asymmetric signing key. The private part is encrypted with ASP.NET Core Data
/// Protection; the public part is what JWKS serves.
/// </summary>
public sealed class SigningKey
{
    public required string Id { get; set; }

    /// <summary>1 for the first key, one more for each later key; unique, so instances that create a key at the same moment cannot both succeed.</summary>
    public int Generation { get; set; }
    public required string Algorithm { get; set; }
    public required string PublicJwk { get; set; }
    public required string ProtectedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// When the key starts signing; until then it is only published. It stops signing when a
    /// newer key activates, and leaves JWKS once the last token it may have signed has expired.
    /// </summary>
    public DateTimeOffset ActivatesAt { get; set; }

    /// <summary>When an admin withdrew the key (a suspected leak): from then on it neither signs nor verifies, and JWKS leaves it out.</summary>
    public DateTimeOffset? WithdrawnAt { get; set; }
}

/// <summary>An access token revoked on its own (RFC 7009), kept only until it would have expired anyway.</summary>
public sealed class RevokedToken
{
    public required string Jti { get; set; }
    public DateTimeOffset RevokedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>
/// A change to what an account's profile shows (the account, its memberships, an
/// organization's name): how every instance learns to forget its cached copy
/// (<see cref="IAccountChangeObserver"/>).
/// </summary>
public sealed class AccountChange
{
    /// <summary>How long a change row is kept: far longer than any poll gap an instance survives without forgetting everything.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    public long Id { get; set; }

    /// <summary>The account whose profile changed; null when many did (an organization was renamed).</summary>
    public long? AccountId { get; set; }
    public DateTimeOffset ChangedAt { get; set; }
}

/// <summary>
/// One revocation (a session, an access token's jti, a withdrawn signing key), numbered by the
/// store as it is inserted: how every instance learns of revocations made by the others, in the
/// store's order rather than by any instance's clock (Tokens/StoreChangeSync).
/// </summary>
public sealed class RevocationEvent
{
    /// <summary>How long an event row is kept: far longer than any poll gap an instance survives without reloading everything.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    public long Id { get; set; }

    /// <summary>One of <see cref="RevocationKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The session id, jti or kid revoked.</summary>
    public required string Subject { get; set; }

    /// <summary>Until when the revocation matters (the session's or token's end).</summary>
    public DateTimeOffset KeepUntil { get; set; }
    public DateTimeOffset At { get; set; }
}

public static class RevocationKinds
{
    public const string Session = "session";
    public const string Token = "token";
    public const string Key = "key";
}

/// <summary>
/// Failed password logins counted for one login name (a hash of its normalised form, whether or
/// not an account has it), either from one client address (<see cref="Scope"/> is the address's
/// partition) or from everywhere (<see cref="Scope"/> is <see cref="AllAddresses"/>).
/// docs/security.md "Lockout" says why both.
/// </summary>
public sealed class LoginThrottle
{
    public const string AllAddresses = "*";

    public required string LoginHash { get; set; }
    public required string Scope { get; set; }
    public int Failures { get; set; }
    public DateTimeOffset? LastFailureAt { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
}

public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Type { get; set; }
    public long? AccountId { get; set; }
    public long? ActorId { get; set; }
    public string? Dialect { get; set; }
    public string? ClientAddress { get; set; }
    public string? Detail { get; set; }
}

public static class AccountRoles
{
    public const string Viewer = "viewer";
    public const string Researcher = "researcher";
    public const string Curator = "curator";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Researcher, Curator, Admin];

    /// <summary>How much a role may do: each role in <see cref="All"/> may do what those before it may; -1 for no role.</summary>
    public static int Rank(string? role) => role is null ? -1 : All.ToList().IndexOf(role);

    /// <summary>Roles an anonymous caller may pick for itself at registration (CONTRACTS.md, native API).</summary>
    public static readonly IReadOnlyList<string> SelfService = [Researcher, Viewer];
}

public static class AccountStatuses
{
    public const string Active = "active";
    public const string Disabled = "disabled";

    public static readonly IReadOnlyList<string> All = [Active, Disabled];
}

public static class MembershipRoles
{
    public const string Member = "member";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Member, Admin];
}
