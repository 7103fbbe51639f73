using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Oidc;

/// <summary>The registered clients: validation of a registration, creation, and client authentication.</summary>
public sealed class ClientRegistry(TokenServerDb db, AuditLog audit, IOptions<OidcOptions> options, TimeProvider time)
{
    private static readonly string DummyHash = OpaqueTokens.Hash("dummy");

    public Task<OidcClient?> FindAsync(string? clientId, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(clientId) || clientId.Length > 100
            ? Task.FromResult<OidcClient?>(null)
            : db.Set<OidcClient>().FirstOrDefaultAsync(c => c.ClientId == clientId, cancellationToken);

    /// <summary>
    /// Checks a registration (a new one when <paramref name="creating"/>, else a PATCH of
    /// <paramref name="target"/>) and applies it to <paramref name="target"/>. Returns the per-field errors, empty when valid.
    /// </summary>
    public Dictionary<string, string[]> Apply(ClientRequest r, OidcClient target, bool creating)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];

        if (creating || r.Name is not null)
        {
            if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > 200)
            {
                Fail("name", "Give the client a name of 1 to 200 characters; users see it on the consent page.");
            }
            else
            {
                target.Name = r.Name.Trim();
            }
        }

        if (creating)
        {
            if (r.Type is not (OidcClientTypes.Public or OidcClientTypes.Confidential))
            {
                Fail("type", "type must be \"public\" (a browser or native app, no secret) or \"confidential\" (a server that keeps a secret).");
            }
            else
            {
                target.Type = r.Type;
            }

            if (r.ClientId is not null && !IsClientId(r.ClientId))
            {
                Fail("client_id", "client_id must be 3 to 100 letters, digits, '.', '-' or '_', and must not start with 'su_' (service users' prefix). Leave it out to get a generated one.");
            }
        }
        else if (r.Type is not null && r.Type != target.Type)
        {
            Fail("type", "A client's type cannot change: delete it and register it again.");
        }

        if (r.RedirectUris is { } redirects)
        {
            if (redirects.FirstOrDefault(u => !IsRedirectUri(u)) is { } bad)
            {
                Fail("redirect_uris", $"'{bad}' is not an acceptable redirect URI: give an absolute https URI without a fragment (http only for localhost, 127.0.0.1 or [::1]; RFC 9700 §2.1, RFC 8252 §7.3), or a private-use scheme such as com.example.app:/callback.");
            }

            target.RedirectUris = redirects.Distinct(StringComparer.Ordinal).ToList();
        }

        if (r.PostLogoutRedirectUris is { } postLogout)
        {
            if (postLogout.FirstOrDefault(u => !IsRedirectUri(u)) is { } bad)
            {
                Fail("post_logout_redirect_uris", $"'{bad}' is not an acceptable post-logout redirect URI: the same rules as redirect_uris apply.");
            }

            target.PostLogoutRedirectUris = postLogout.Distinct(StringComparer.Ordinal).ToList();
        }

        if (r.GrantTypes is not null || creating)
        {
            var grants = r.GrantTypes ?? [OidcGrantTypes.AuthorizationCode, OidcGrantTypes.RefreshToken];
            if (grants.FirstOrDefault(g => !OidcGrantTypes.ForClients.Contains(g)) is { } bad)
            {
                Fail("grant_types", $"'{bad}' cannot be granted to a registered client; choose from: {string.Join(", ", OidcGrantTypes.ForClients)}.");
            }

            target.GrantTypes = grants.Distinct(StringComparer.Ordinal).ToList();
        }

        if (r.Scopes is not null || creating)
        {
            var supported = OidcScopes.Supported(options.Value);
            var scopes = r.Scopes ?? [.. OidcScopes.Standard];
            if (scopes.FirstOrDefault(s => !supported.Contains(s)) is { } bad)
            {
                Fail("scopes", $"'{bad}' is not a scope of this server; choose from: {string.Join(", ", supported)}.");
            }

            target.Scopes = scopes.Distinct(StringComparer.Ordinal).ToList();
        }

        if (r.FirstParty is { } firstParty)
        {
            target.FirstParty = firstParty;
        }

        if (r.BackchannelLogoutUri is not null)
        {
            if (r.BackchannelLogoutUri.Length == 0)
            {
                target.BackchannelLogoutUri = null;
            }
            else if (!Uri.TryCreate(r.BackchannelLogoutUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Fragment.Length > 0 || r.BackchannelLogoutUri.Length > 2000)
            {
                Fail("backchannel_logout_uri", "backchannel_logout_uri must be an absolute http(s) URI without a fragment (OpenID Connect Back-Channel Logout 1.0 §2.2); \"\" removes it.");
            }
            else
            {
                target.BackchannelLogoutUri = r.BackchannelLogoutUri;
            }
        }

        if (r.Audience is not null)
        {
            if (r.Audience.Length > 200)
            {
                Fail("audience", "audience must be at most 200 characters; \"\" removes it.");
            }
            else
            {
                target.Audience = r.Audience.Length == 0 ? null : r.Audience;
            }
        }

        if (r.AccessTokenLifetime is { } lifetime)
        {
            if (lifetime is < 60 or > 86400)
            {
                Fail("access_token_lifetime", "access_token_lifetime is in seconds, from 60 to 86400.");
            }
            else
            {
                target.AccessTokenLifetimeSeconds = lifetime;
            }
        }

        if (target.GrantTypes.Contains(OidcGrantTypes.AuthorizationCode) && target.RedirectUris.Count == 0 && !errors.ContainsKey("redirect_uris"))
        {
            Fail("redirect_uris", "A client with the authorization_code grant needs at least one redirect URI.");
        }

        return errors;
    }

    /// <summary>
    /// Registers a new client from <paramref name="request"/> and audits it (<paramref name="actor"/>
    /// null for the operator command line), shared by POST /api/v1/admin/clients and <c>clients add</c>.
    /// </summary>
    public async Task<ClientRegistration> RegisterAsync(ClientRequest request, long? actor, CancellationToken cancellationToken)
    {
        var client = new OidcClient { ClientId = string.Empty, Name = string.Empty, Type = string.Empty };
        var errors = Apply(request, client, creating: true);
        if (errors.Count > 0)
        {
            return new ClientRegistration(null, null, errors, Exists: false);
        }

        if (request.ClientId is not null && await FindAsync(request.ClientId, cancellationToken) is not null)
        {
            return new ClientRegistration(null, null, errors, Exists: true);
        }

        var secret = Add(client, request.ClientId, null);
        audit.Record(ClientEndpoints.AuditCreated, null, client.ClientId, actor);
        await db.SaveChangesAsync(cancellationToken);
        return new ClientRegistration(client, secret, errors, Exists: false);
    }

    /// <summary>Adds a validated client; a confidential one gets a new secret (or the given one, from the seed file), returned once.</summary>
    public string? Add(OidcClient client, string? clientId, string? secret)
    {
        client.ClientId = clientId ?? "c_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        client.CreatedAt = time.GetUtcNow();
        if (client.Type == OidcClientTypes.Confidential)
        {
            secret ??= OpaqueTokens.Generate();
            client.SecretHash = OpaqueTokens.Hash(secret);
        }
        else
        {
            secret = null;
        }

        db.Set<OidcClient>().Add(client);
        return secret;
    }

    /// <summary>
    /// RFC 6749 §2.3.1 client authentication: a confidential client must present its secret; a
    /// public client presents none. Compared in constant time; an unknown client costs the same.
    /// </summary>
    public async Task<OidcClient?> AuthenticateAsync(string? clientId, string? secret, CancellationToken cancellationToken)
    {
        var client = await FindAsync(clientId, cancellationToken);
        if (client is null || client.Type == OidcClientTypes.Public)
        {
            return client is not null && string.IsNullOrEmpty(secret) ? client : null;
        }

        var presented = Encoding.ASCII.GetBytes(OpaqueTokens.Hash(secret ?? string.Empty));
        var expected = Encoding.ASCII.GetBytes(client.SecretHash ?? DummyHash);
        return CryptographicOperations.FixedTimeEquals(presented, expected) && !string.IsNullOrEmpty(secret) ? client : null;
    }

    private static bool IsClientId(string id) =>
        id.Length is >= 3 and <= 100 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && !id.StartsWith("su_", StringComparison.Ordinal);

    private static bool IsRedirectUri(string value)
    {
        if (value.Length > 2000 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0 || value.Contains('#', StringComparison.Ordinal))
        {
            return false;
        }

        return uri.Scheme switch
        {
            "https" => true,
            "http" => uri.IsLoopback,
            _ => uri.Scheme.Contains('.', StringComparison.Ordinal),
        };
    }
}

/// <summary>Creates or updates the clients of <see cref="OidcOptions.ClientsFile"/> at start.</summary>
internal sealed class ClientSeed(IServiceScopeFactory scopes, IOptions<OidcOptions> options, IOptions<TokenOptions> tokenOptions, ILogger<ClientSeed> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SeedAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another instance on the same store inserted the same clients at the same moment (a
            // rolling start): the second pass finds them and updates instead.
            await SeedAsync(cancellationToken);
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (options.Value.SwaggerClient)
        {
            await EnsureSwaggerClientAsync(cancellationToken);
        }

        if (options.Value.ClientsFile is not { Length: > 0 } path)
        {
            return;
        }

        List<ClientRequest> entries;
        try
        {
            entries = JsonSerializer.Deserialize<List<ClientRequest>>(await File.ReadAllTextAsync(path, cancellationToken)) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"TokenServer:Oidc:ClientsFile ('{path}') is not a JSON array of clients: {ex.Message}", ex);
        }

        await using var scope = scopes.CreateAsyncScope();
        var registry = scope.ServiceProvider.GetRequiredService<ClientRegistry>();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        foreach (var entry in entries)
        {
            var existing = entry.ClientId is null ? null : await registry.FindAsync(entry.ClientId, cancellationToken);
            var client = existing ?? new OidcClient { ClientId = string.Empty, Name = string.Empty, Type = string.Empty };
            var errors = registry.Apply(entry with { Type = existing is null ? entry.Type : null }, client, creating: existing is null);
            if (entry.ClientSecret is { Length: > 0 and < 32 })
            {
                errors["client_secret"] = ["A client_secret must be at least 32 characters of random text (for example: openssl rand -base64 32)."];
            }

            if (entry.ClientId is null)
            {
                errors["client_id"] = ["Every client in the seed file needs a client_id, so a restart updates it instead of adding another."];
            }

            if (errors.Count > 0)
            {
                throw new InvalidOperationException($"TokenServer:Oidc:ClientsFile ('{path}'), client '{entry.ClientId}': " + string.Join(" ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
            }

            if (existing is null)
            {
                registry.Add(client, entry.ClientId, entry.ClientSecret);
            }
            else if (entry.ClientSecret is { Length: > 0 } secret && client.Type == OidcClientTypes.Confidential)
            {
                client.SecretHash = OpaqueTokens.Hash(secret);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Registered {Count} clients from {File}", entries.Count, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Swagger UI as a public, first-party client; its redirect URI follows the configured issuer.</summary>
    private async Task EnsureSwaggerClientAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var registry = scope.ServiceProvider.GetRequiredService<ClientRegistry>();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var redirect = tokenOptions.Value.Issuer.TrimEnd('/') + "/swagger/oauth2-redirect.html";
        var existing = await registry.FindAsync(Hosting.OpenApi.SwaggerClientId, cancellationToken);
        if (existing is null)
        {
            var client = new OidcClient { ClientId = string.Empty, Name = "Swagger UI", Type = OidcClientTypes.Public, RedirectUris = [redirect], FirstParty = true, GrantTypes = [OidcGrantTypes.AuthorizationCode], Scopes = [.. OidcScopes.Supported(options.Value)] };
            registry.Add(client, Hosting.OpenApi.SwaggerClientId, null);
        }
        else if (!existing.RedirectUris.Contains(redirect))
        {
            existing.RedirectUris = [redirect];
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>
/// The outcome of <see cref="ClientRegistry.RegisterAsync"/>: the new client and its secret (a
/// confidential client's, shown once), or the per-field errors, or that the client_id is taken.
/// </summary>
public sealed record ClientRegistration(OidcClient? Client, string? Secret, Dictionary<string, string[]> Errors, bool Exists);
