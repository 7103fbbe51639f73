using TokenServer.Auth;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Organizations;

/// <summary>A new service user's one-time answer: its client secret is never shown again (CONTRACTS.md: "secret shown once").</summary>
public sealed record NewServiceUser(ServiceUser ServiceUser, string Role, string ClientSecret);

/// <summary>
/// Creating a service user, shared by the organization admins' API
/// (<see cref="ServiceUserEndpoints"/>) and the operator command line (README "Operating").
/// </summary>
public sealed class ServiceUserRegistry(TokenServerDb db, AuditLog audit, TimeProvider time)
{
    public const string DefaultRole = AccountRoles.Researcher;

    /// <summary>What a service user may do to records; never admin, which an organization admin cannot grant.</summary>
    public static readonly IReadOnlyList<string> Roles = [AccountRoles.Viewer, AccountRoles.Researcher, AccountRoles.Curator];

    /// <summary>The field and message of the first problem with a name and role, or null when both are acceptable.</summary>
    public static (string Field, string Message)? Validate(string? name, string role)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100)
        {
            return ("name", "Give the service user a name of 1 to 100 characters, such as \"pipeline-uploader\".");
        }

        return Roles.Contains(role) ? null : ("role", $"Choose one of: {string.Join(", ", Roles)}.");
    }

    /// <summary>
    /// Creates a validated service user with an account of its own (no usable password) that is a
    /// member of the organization, and audits it; <paramref name="createdBy"/> is null for the operator.
    /// </summary>
    public async Task<NewServiceUser> CreateAsync(long organizationId, string organizationSlug, string name, string role, long? createdBy, CancellationToken cancellationToken)
    {
        name = name.Trim();
        var now = time.GetUtcNow();
        var clientId = ServiceUserSecrets.NewClientId();
        var secret = OpaqueTokens.Generate();
        var email = ServiceUserSecrets.EmailFor(clientId);
        var account = new Account
        {
            Email = email,
            NormalizedEmail = CredentialChecker.Normalize(email),
            FullName = name,
            PasswordHash = ServiceUserSecrets.NoPassword,
            Role = role,
            Status = AccountStatuses.Active,
            IsActivated = true,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            CreatedAt = now,
        };
        var serviceUser = new ServiceUser
        {
            OrganizationId = organizationId,
            Account = account,
            Name = name,
            ClientId = clientId,
            ClientSecretHash = OpaqueTokens.Hash(secret),
            CreatedAt = now,
            CreatedBy = createdBy,
        };
        db.Set<ServiceUser>().Add(serviceUser);
        db.Memberships.Add(new Membership { OrganizationId = organizationId, Account = account, Role = MembershipRoles.Member, CreatedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        audit.Record(ServiceUserAuditEvents.Created, account.Id, $"{organizationSlug}: {name} ({clientId})", createdBy);
        await db.SaveChangesAsync(cancellationToken);
        return new NewServiceUser(serviceUser, role, secret);
    }
}
