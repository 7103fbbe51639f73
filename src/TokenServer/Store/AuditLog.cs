namespace TokenServer.Store;

public static class AuditEventTypes
{
    public const string Registered = "account.registered";
    public const string LoginSucceeded = "login.succeeded";
    public const string LoginFailed = "login.failed";
    public const string LockedOut = "account.locked_out";
    public const string Refreshed = "token.refreshed";
    public const string RefreshReuseDetected = "token.refresh_reuse_detected";
    public const string Logout = "session.logout";
    public const string SessionRevoked = "session.revoked";
    public const string TokenRevoked = "token.revoked";
    public const string PasswordChanged = "account.password_changed";
    public const string PasswordReset = "account.password_reset";
    public const string AccountUpdated = "account.updated";
    public const string AccountUnlocked = "account.unlocked";
    public const string OrganizationCreated = "organization.created";
    public const string MembershipAdded = "membership.added";
    public const string MembershipRemoved = "membership.removed";
    public const string KeyRotated = "key.rotated";
    public const string KeyWithdrawn = "key.withdrawn";
    public const string AccountImported = "account.imported";
}

/// <summary>
/// Adds audit events to the current unit of work, so an event is stored exactly when the
/// change it describes is. Details never carry a password or a token.
/// </summary>
public sealed class AuditLog(TokenServerDb db, TimeProvider time, IHttpContextAccessor http, Observability.TokenServerMetrics metrics)
{
    public void Record(string type, long? accountId, string? detail = null, long? actorId = null, string? dialect = null)
    {
        metrics.Audited(type, detail, dialect);
        db.AuditEvents.Add(Create(type, accountId, detail, actorId, dialect));
    }

    /// <summary>
    /// An event for a unit of work that another context commits (<see cref="GroupCommit"/>):
    /// the caller adds it there, and counts it with <see cref="Counted"/> once it is stored.
    /// </summary>
    public AuditEvent Create(string type, long? accountId, string? detail = null, long? actorId = null, string? dialect = null) => new()
    {
        At = time.GetUtcNow(),
        Type = type,
        AccountId = accountId,
        ActorId = actorId,
        Dialect = dialect,
        ClientAddress = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
        Detail = detail is { Length: > 1000 } ? detail[..1000] : detail,
    };

    public void Counted(AuditEvent stored) => metrics.Audited(stored.Type, stored.Detail, stored.Dialect);
}
