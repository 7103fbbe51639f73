namespace TokenServer.Tokens;

/// <summary>A session that was just revoked; <see cref="ParentSessionId"/> is set for a session granted to a registered client from a browser session.</summary>
public sealed record EndedSession(string SessionId, long AccountId, string ClientId, string? ParentSessionId);

/// <summary>
/// Told of every session revocation, whichever path ended it (logout, the session API, a password
/// change or reset, an administrator's change, reuse detection), after it is committed. A feature
/// that must tell someone else registers one, so Tokens/ knows nothing of it (the OpenID Connect
/// provider's back-channel logout, Oidc/BackChannelLogout.cs).
/// </summary>
public interface ISessionEndListener
{
    Task SessionsEndedAsync(IReadOnlyList<EndedSession> sessions, CancellationToken cancellationToken);
}
