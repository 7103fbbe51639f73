using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>RFC 8628 §3.2 device authorization response.</summary>
public sealed record DeviceAuthorizationResponse(
    [property: JsonPropertyName("device_code")] string DeviceCode,
    [property: JsonPropertyName("user_code")] string UserCode,
    [property: JsonPropertyName("verification_uri")] string VerificationUri,
    [property: JsonPropertyName("verification_uri_complete")] string VerificationUriComplete,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("interval")] int Interval);

/// <summary>
/// The Device Authorization Grant (RFC 8628): a command-line tool shows a short user code, the
/// user enters it on the device page after signing in, and the tool polls the token endpoint.
/// </summary>
public sealed class DeviceFlow(TokenServerDb db, CodeGrant grants, IOptions<OidcOptions> options, IOptions<TokenOptions> tokenOptions, TimeProvider time)
{
    /// <summary>RFC 8628 §6.1: 20 consonants (no vowels, so no words), 8 of them: 34.5 bits, shown as XXXX-XXXX.</summary>
    private const string Alphabet = "BCDFGHJKLMNPQRSTVWXZ";

    public async Task<DeviceAuthorizationResponse> StartAsync(OidcClient client, string scope, CancellationToken cancellationToken)
    {
        var deviceCode = OpaqueTokens.Generate();
        var userCode = new string(Enumerable.Range(0, 8).Select(_ => Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)]).ToArray());
        var now = time.GetUtcNow();
        var o = options.Value;
        db.Set<DeviceAuthorization>().Add(new DeviceAuthorization
        {
            DeviceCodeHash = OpaqueTokens.Hash(deviceCode),
            UserCodeHash = OpaqueTokens.Hash(userCode),
            ClientId = client.ClientId,
            Scope = scope,
            Status = DeviceStatuses.Pending,
            CreatedAt = now,
            ExpiresAt = now + o.DeviceCodeLifetime,
            Interval = o.DevicePollInterval,
        });
        await db.SaveChangesAsync(cancellationToken);
        var shown = $"{userCode[..4]}-{userCode[4..]}";
        var page = tokenOptions.Value.Issuer.TrimEnd('/') + "/device";
        return new DeviceAuthorizationResponse(deviceCode, shown, page, $"{page}?user_code={shown}", (int)o.DeviceCodeLifetime.TotalSeconds, o.DevicePollInterval);
    }

    /// <summary>A pending, unexpired request for this user code (any case, with or without the dash), or null.</summary>
    public async Task<(DeviceAuthorization Request, OidcClient Client)?> FindPendingAsync(string? userCode, CancellationToken cancellationToken)
    {
        var normalized = new string((userCode ?? string.Empty).ToUpperInvariant().Where(char.IsAsciiLetter).ToArray());
        if (normalized.Length != 8)
        {
            return null;
        }

        var hash = OpaqueTokens.Hash(normalized);
        var now = time.GetUtcNow();
        var request = await db.Set<DeviceAuthorization>().FirstOrDefaultAsync(d => d.UserCodeHash == hash && d.Status == DeviceStatuses.Pending && d.ExpiresAt > now, cancellationToken);
        var client = request is null ? null : await db.Set<OidcClient>().FirstOrDefaultAsync(c => c.ClientId == request.ClientId, cancellationToken);
        return request is null || client is null ? null : (request, client);
    }

    /// <summary>The signed-in user's answer; the user code stops matching either way (single use).</summary>
    public async Task<bool> DecideAsync(string? userCode, BrowserUser user, bool allow, CancellationToken cancellationToken)
    {
        if (await FindPendingAsync(userCode, cancellationToken) is not { } found)
        {
            return false;
        }

        var hash = found.Request.DeviceCodeHash;
        var changed = await db.WriteAsync(
            () => db.Set<DeviceAuthorization>().Where(d => d.DeviceCodeHash == hash && d.Status == DeviceStatuses.Pending)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Status, allow ? DeviceStatuses.Approved : DeviceStatuses.Denied)
                    .SetProperty(d => d.AccountId, user.AccountId)
                    .SetProperty(d => d.BrowserSessionId, user.SessionId)
                    .SetProperty(d => d.AuthTime, user.AuthTime)
                    .SetProperty(d => d.AuthenticationMethods, string.Join(' ', user.Amr))
                    .SetProperty(d => d.Acr, user.Acr), cancellationToken),
            cancellationToken);
        return changed == 1;
    }

    /// <summary>RFC 8628 §3.4-3.5: the token endpoint's answer to one poll.</summary>
    public async Task<GrantResult> PollAsync(OidcClient client, string? deviceCode, CancellationToken cancellationToken)
    {
        if (!client.GrantTypes.Contains(OidcGrantTypes.DeviceCode))
        {
            return GrantResult.Fail("unauthorized_client", "This client is not registered for the device_code grant.");
        }

        if (!OpaqueTokens.LooksValid(deviceCode))
        {
            return GrantResult.Fail("invalid_grant", "The device_code is unknown; start again at the device authorization endpoint.");
        }

        var hash = OpaqueTokens.Hash(deviceCode!);
        var row = await db.Set<DeviceAuthorization>().FirstOrDefaultAsync(d => d.DeviceCodeHash == hash, cancellationToken);
        var now = time.GetUtcNow();
        if (row is null || row.ClientId != client.ClientId || row.Status == DeviceStatuses.Redeemed)
        {
            return GrantResult.Fail("invalid_grant", "The device_code is unknown, belongs to another client, or was already used; start again.");
        }

        if (row.ExpiresAt <= now)
        {
            return GrantResult.Fail("expired_token", "The device code has expired; start again at the device authorization endpoint.");
        }

        if (row.Status == DeviceStatuses.Denied)
        {
            return GrantResult.Fail("access_denied", "The user denied the request.");
        }

        if (row.Status == DeviceStatuses.Pending)
        {
            var tooSoon = row.LastPolledAt is { } last && now - last < TimeSpan.FromSeconds(row.Interval);
            row.LastPolledAt = now;
            if (tooSoon)
            {
                row.Interval += 5;
            }

            await db.SaveChangesAsync(cancellationToken);
            return tooSoon
                ? GrantResult.Fail("slow_down", $"Polling too fast: wait at least {row.Interval} seconds between requests (RFC 8628 §3.5).")
                : GrantResult.Fail("authorization_pending", "The user has not entered the code yet; keep polling at the given interval.");
        }

        var parent = await db.Sessions.AsNoTracking().Where(s => s.Id == row.BrowserSessionId && s.RevokedAt == null && s.ExpiresAt > now).Select(s => new { s.ExpiresAt, s.Account }).FirstOrDefaultAsync(cancellationToken);

        // Single use: the device code is redeemed by a conditional update in the new session's
        // own unit of work, so of two concurrent polls only one gets tokens (RFC 8628 §3.5).
        async Task<bool> Redeem(TokenServerDb writer, string sessionId, CancellationToken token) =>
            await writer.Set<DeviceAuthorization>().Where(d => d.DeviceCodeHash == hash && d.Status == DeviceStatuses.Approved)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeviceStatuses.Redeemed), token) == 1;
        var issued = parent is null || parent.Account.Status != AccountStatuses.Active
            ? null
            : await grants.IssueAsync(client, parent.Account, row.BrowserSessionId!, parent.ExpiresAt, row.Scope, null, row.AuthTime ?? now, cancellationToken, row.AuthenticationMethods?.Split(' ', StringSplitOptions.RemoveEmptyEntries), row.Acr, Redeem);
        return issued ?? GrantResult.Fail("invalid_grant", "The sign-in that approved this device has ended; start again.");
    }
}
