using System.Net.Mail;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Store;

namespace TokenServer.Users;

/// <summary>A new account; a null password makes one that signs in only through an upstream provider (<see cref="PasswordHasher.NoPassword"/>).</summary>
public sealed record NewAccount(string Email, string? Password, string FullName, string Role, string? Username)
{
    public DateTimeOffset? EmailVerifiedAt { get; init; }
}

public enum RegistrationConflict
{
    None,
    Email,
    Username,
}

/// <summary>Creates accounts: field rules, case-insensitive uniqueness, hashing.</summary>
public sealed partial class AccountRegistry(
    TokenServerDb db,
    PasswordHasher hasher,
    AuditLog audit,
    IOptions<PasswordOptions> passwordOptions,
    TimeProvider time)
{
    [GeneratedRegex("^[A-Za-z0-9._-]{3,64}$")]
    private static partial Regex UsernamePattern();

    /// <summary>Per-field messages for a registration; empty when every field is acceptable.</summary>
    public Dictionary<string, string[]> Validate(string? email, string? password, string? fullName, string? role, string? username)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(email))
        {
            errors["email"] = ["Give an email address."];
        }
        else if (email.Length > 320 || !MailAddress.TryCreate(email.Trim(), out var parsed) || parsed.Address != email.Trim() || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            errors["email"] = ["Give a valid email address such as name@example.org."];
        }

        if (PasswordPolicy.Check(password, email, passwordOptions.Value) is { } passwordProblem)
        {
            errors["password"] = [passwordProblem];
        }

        if (FullNameProblem(fullName) is { } nameProblem)
        {
            errors["full_name"] = [nameProblem];
        }

        if (role is not null && !AccountRoles.All.Contains(role))
        {
            errors["role"] = [$"Choose one of: {string.Join(", ", AccountRoles.All)}."];
        }

        if (username is not null && !UsernamePattern().IsMatch(username))
        {
            errors["username"] = ["Use 3 to 64 letters, digits, dots, dashes or underscores."];
        }

        return errors;
    }

    public static string? FullNameProblem(string? fullName) =>
        string.IsNullOrWhiteSpace(fullName) ? "Give your full name."
        : fullName.Length > 200 ? "Use at most 200 characters."
        : fullName.Any(char.IsControl) ? "Use no control characters (such as line breaks) in your name."
        : null;

    /// <summary>A person renaming their own account (the account page); null on success, else what to fix.</summary>
    public async Task<string?> RenameAsync(long accountId, string? fullName, CancellationToken cancellationToken)
    {
        fullName = fullName?.Trim();
        if (FullNameProblem(fullName) is { } problem)
        {
            return problem;
        }

        var account = await db.Accounts.FirstAsync(a => a.Id == accountId, cancellationToken);
        account.FullName = fullName!;
        audit.Record(AuditEventTypes.AccountUpdated, accountId, "full name", accountId);
        await db.SaveChangesAsync(cancellationToken);
        return null;
    }

    public async Task<(Account? Account, RegistrationConflict Conflict)> CreateAsync(NewAccount request, long? actorId, CancellationToken cancellationToken)
    {
        var email = request.Email.Trim();
        var normalizedEmail = CredentialChecker.Normalize(email);
        var normalizedUsername = request.Username is null ? null : CredentialChecker.Normalize(request.Username);

        // A username may not equal another account's email or the reverse: both are login names.
        if (await db.Accounts.AnyAsync(a => a.NormalizedEmail == normalizedEmail || a.NormalizedUsername == normalizedEmail, cancellationToken))
        {
            return (null, RegistrationConflict.Email);
        }

        if (normalizedUsername is not null
            && await db.Accounts.AnyAsync(a => a.NormalizedUsername == normalizedUsername || a.NormalizedEmail == normalizedUsername, cancellationToken))
        {
            return (null, RegistrationConflict.Username);
        }

        var account = new Account
        {
            Email = email,
            NormalizedEmail = normalizedEmail,
            Username = request.Username,
            NormalizedUsername = normalizedUsername,
            FullName = request.FullName.Trim(),
            PasswordHash = request.Password is null ? PasswordHasher.NoPassword : await hasher.HashAsync(request.Password, cancellationToken),
            Role = request.Role,
            Status = AccountStatuses.Active,
            IsActivated = true,
            EmailVerifiedAt = request.EmailVerifiedAt,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            CreatedAt = time.GetUtcNow(),
        };
        db.Accounts.Add(account);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two registrations raced past the check above; the unique index decided.
            db.Entry(account).State = EntityState.Detached;
            return (null, RegistrationConflict.Email);
        }

        audit.Record(AuditEventTypes.Registered, account.Id, $"role {account.Role}", actorId);
        await db.SaveChangesAsync(cancellationToken);
        return (account, RegistrationConflict.None);
    }
}
