using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Tokens;

/// <summary>
/// The signing keys, read from the store and held in memory. A key is published in JWKS from
/// its creation, signs from <see cref="SigningKey.ActivatesAt"/> until a newer key activates,
/// and stays published for <see cref="KeyOptions.RetainAfterRetirement"/> after that, so every
/// token it signed can still be verified offline from JWKS alone.
/// </summary>
public sealed class SigningKeyRing(
    IServiceScopeFactory scopes,
    IDataProtectionProvider dataProtection,
    IOptions<TokenOptions> options,
    TimeProvider time,
    ILogger<SigningKeyRing> logger) : IDisposable
{
    private readonly IDataProtector protector = dataProtection.CreateProtector("TokenServer.SigningKeys.v1");
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private volatile Snapshot snapshot = Snapshot.Empty;
    private volatile JwksCache? jwks;
    private long lastUnknownKidReload;

    /// <summary>The longest Retry-After a lagging clock answers with: another instance, or this one after a clock fix, may answer sooner.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The key that signs now: the newest one whose activation time has come. When none has
    /// come by this instance's clock, the clock is behind the instance that created the keys
    /// (docs/decisions.md, "Clock skew"): within <see cref="TokenOptions.ClockSkew"/> of the
    /// first activation that key signs (it is published in JWKS since its creation, and is the
    /// key the other instances sign with); beyond it the request is refused at once with 503,
    /// since tokens stamped by a clock that far off would be wrong for every verifier.
    /// </summary>
    public SigningCredentials CurrentSigningCredentials
    {
        get
        {
            var now = time.GetUtcNow();
            var keys = snapshot.Keys;
            for (var i = keys.Count - 1; i >= 0; i--)
            {
                if (keys[i].ActivatesAt <= now)
                {
                    return keys[i].Credentials;
                }
            }

            if (keys.Count == 0)
            {
                throw new InvalidOperationException("No signing key is loaded; the key ring was not initialised at start.");
            }

            var wait = keys[0].ActivatesAt - now;
            if (wait <= options.Value.ClockSkew)
            {
                return keys[0].Credentials;
            }

            logger.LogError("This instance's clock is {Behind} behind the first signing key's activation; refusing to sign until the clock is fixed", wait);
            throw new ServerBusyException(wait < MaxRetryAfter ? wait : MaxRetryAfter,
                $"This server's clock is {(long)Math.Ceiling(wait.TotalSeconds)} s behind the signing keys, so it cannot sign tokens. Retry after the number of seconds in Retry-After (another instance may answer at once); the operator must fix this server's time synchronisation.");
        }
    }

    /// <summary>
    /// How far this instance's clock is behind the instances that created the signing keys: a key
    /// created (by its creator's clock) after this instance's now. Zero when no key says so.
    /// </summary>
    public TimeSpan ClockBehind
    {
        get
        {
            var now = time.GetUtcNow();
            var newest = snapshot.Keys.Select(k => k.CreatedAt).DefaultIfEmpty(now).Max();
            return newest > now ? newest - now : TimeSpan.Zero;
        }
    }

    /// <summary>When the key that signs now started signing; null before the ring is loaded.</summary>
    public DateTimeOffset? CurrentActivatesAt
    {
        get
        {
            var now = time.GetUtcNow();
            return snapshot.Keys.LastOrDefault(k => k.ActivatesAt <= now)?.ActivatesAt;
        }
    }

    /// <summary>The published key with this <c>kid</c>, or nothing: a token naming any other key is refused.</summary>
    public IEnumerable<SecurityKey> ResolveValidationKeys(string? kid)
    {
        if (kid is not null && snapshot.ByKid.TryGetValue(kid, out var entry) && entry.PublishedUntil > time.GetUtcNow())
        {
            return [entry.Credentials.Key];
        }

        if (kid is not null)
        {
            ReloadSoon();
        }

        return [];
    }

    /// <summary>
    /// RFC 8725 §3.9-style hygiene for our own keys: a key signs only until its successor
    /// activates (or until an admin withdraws it), so a token naming it with an <c>iat</c> from
    /// after that was not signed by this server's rules: a stolen retired key cannot mint fresh
    /// tokens (docs/security.md, "Retired and withdrawn keys").
    /// </summary>
    public bool IssuedAfterRetirement(string? kid, DateTimeOffset issuedAt) =>
        kid is not null && snapshot.ByKid.TryGetValue(kid, out var entry) && issuedAt >= entry.RetiredAt;

    /// <summary>
    /// A kid we do not know may be a key another instance has just created: reload in the
    /// background, at most once every two seconds whatever kids strangers send.
    /// </summary>
    private void ReloadSoon()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastUnknownKidReload);
        if (now - last < 2000 || Interlocked.CompareExchange(ref lastUnknownKidReload, now, last) != last)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await ReloadAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Reloading the signing keys after an unknown kid failed");
            }
        });
    }

    /// <summary>The JWKS document (RFC 7517): public parts only, as stored at key creation.</summary>
    public string JwksJson
    {
        get
        {
            var now = time.GetUtcNow();
            var current = snapshot;
            var cached = jwks;
            if (cached is not null && ReferenceEquals(cached.Source, current) && cached.From <= now && now < cached.Until)
            {
                return cached.Json;
            }

            var published = current.Keys.Where(k => k.PublishedUntil > now).Select(k => k.PublicJwk);
            var json = "{\"keys\":[" + string.Join(',', published) + "]}";
            var until = current.Keys.Select(k => k.PublishedUntil).Where(t => t > now).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
            jwks = new JwksCache(current, json, now, until);
            return json;
        }
    }

    /// <summary>Loads the ring, creating the first key on a new store and the next one when rotation is due.</summary>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        var now = time.GetUtcNow();
        var keys = snapshot.Keys;
        var o = options.Value.Keys;
        if (keys.Count == 0)
        {
            await CreateKeyAsync(now, retryOnConflict: false, cancellationToken);
            return;
        }

        var newest = keys[^1];
        var rotationDue = newest.ActivatesAt + o.RotationInterval;
        if (newest.ActivatesAt <= now && rotationDue - o.PublishLead <= now)
        {
            await CreateKeyAsync(rotationDue > now + o.PublishLead ? rotationDue : now + o.PublishLead, retryOnConflict: false, cancellationToken);
        }
    }

    /// <summary>Creates a key now that starts signing after <see cref="KeyOptions.PublishLead"/>.</summary>
    public async Task<SigningKey> RotateAsync(CancellationToken cancellationToken) =>
        await CreateKeyAsync(time.GetUtcNow() + options.Value.Keys.PublishLead, retryOnConflict: true, cancellationToken)
        ?? throw new InvalidOperationException("Could not create a signing key: other instances kept creating keys at the same moment.");

    /// <summary>
    /// Withdraws a key at once (a suspected leak): it stops signing and verifying here now, and on
    /// every other instance at its next store poll (a <see cref="RevocationEvent"/>). If it was the
    /// key signing now, a new key signs from now on, without the usual publish lead. Null when no
    /// usable key has this kid.
    /// </summary>
    public async Task<SigningKey?> WithdrawAsync(string kid, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            await ReloadAsync(cancellationToken);
            if (!snapshot.ByKid.TryGetValue(kid, out var entry))
            {
                return null;
            }

            var now = time.GetUtcNow();
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
                await using var transaction = await db.BeginWriteTransactionAsync(cancellationToken);
                await db.SigningKeys.Where(k => k.Id == kid).ExecuteUpdateAsync(s => s.SetProperty(k => k.WithdrawnAt, now), cancellationToken);
                db.RevocationEvents.Add(new RevocationEvent { Kind = RevocationKinds.Key, Subject = kid, KeepUntil = entry.PublishedUntil, At = now });
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            logger.LogWarning("Signing key {Kid} withdrawn: tokens it signed are refused from now on", kid);
            await ReloadAsync(cancellationToken);
            if (!snapshot.Keys.Any(k => k.ActivatesAt <= now))
            {
                await CreateKeyLockedAsync(now, retryOnConflict: true, cancellationToken);
            }

            return await FindAsync(kid, cancellationToken);
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task<SigningKey?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TokenServerDb>().SigningKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == kid, cancellationToken);
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        // A withdrawn key is gone: it neither signs, nor verifies, nor appears in JWKS.
        var rows = await db.SigningKeys.AsNoTracking().Where(k => k.WithdrawnAt == null).ToListAsync(cancellationToken);
        rows.Sort((a, b) => a.ActivatesAt != b.ActivatesAt ? a.ActivatesAt.CompareTo(b.ActivatesAt) : string.CompareOrdinal(a.Id, b.Id));

        var retain = options.Value.Keys.RetainAfterRetirement;
        var entries = new List<KeyEntry>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var successorActivates = i + 1 < rows.Count ? rows[i + 1].ActivatesAt : DateTimeOffset.MaxValue;
            var publishedUntil = successorActivates == DateTimeOffset.MaxValue ? DateTimeOffset.MaxValue : successorActivates + retain;
            var existing = snapshot.ByKid.GetValueOrDefault(rows[i].Id);
            entries.Add(new KeyEntry(
                rows[i].Id,
                rows[i].Generation,
                rows[i].CreatedAt,
                rows[i].ActivatesAt,
                successorActivates,
                publishedUntil,
                rows[i].PublicJwk,
                existing?.Credentials ?? LoadCredentials(rows[i])));
        }

        snapshot = new Snapshot(entries, entries.ToDictionary(e => e.Kid, StringComparer.Ordinal));
    }

    /// <summary>
    /// Creates the next generation of key. Instances starting together on a new store, or
    /// finding rotation due at the same tick, race here; the unique generation lets exactly one
    /// win, and the others load the winner's key instead of signing with one nobody else knows.
    /// </summary>
    private async Task<SigningKey?> CreateKeyAsync(DateTimeOffset activatesAt, bool retryOnConflict, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            return await CreateKeyLockedAsync(activatesAt, retryOnConflict, cancellationToken);
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task<SigningKey?> CreateKeyLockedAsync(DateTimeOffset activatesAt, bool retryOnConflict, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < (retryOnConflict ? 3 : 1); attempt++)
        {
            await ReloadAsync(cancellationToken);
            var algorithm = options.Value.SigningAlgorithm;
            var (privateKey, publicJwk, kid) = GenerateKey(algorithm);
            var row = new SigningKey
            {
                Id = kid,
                Generation = 0,
                Algorithm = algorithm,
                PublicJwk = publicJwk,
                ProtectedPrivateKey = Convert.ToBase64String(protector.Protect(privateKey)),
                CreatedAt = time.GetUtcNow(),
                ActivatesAt = activatesAt,
            };
            CryptographicOperations.ZeroMemory(privateKey);

            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();

                // Counted over every key, withdrawn ones too (the snapshot leaves those out).
                row.Generation = (await db.SigningKeys.MaxAsync(k => (int?)k.Generation, cancellationToken) ?? 0) + 1;
                db.SigningKeys.Add(row);
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateException)
                {
                    logger.LogInformation("Another instance created signing key generation {Generation} first", row.Generation);
                    continue;
                }
            }

            logger.LogInformation("Created signing key {Kid} ({Algorithm}), generation {Generation}, signing from {ActivatesAt:O}", kid, algorithm, row.Generation, activatesAt);
            await ReloadAsync(cancellationToken);
            return row;
        }

        await ReloadAsync(cancellationToken);
        return null;
    }

    private SigningCredentials LoadCredentials(SigningKey row)
    {
        var pkcs8 = protector.Unprotect(Convert.FromBase64String(row.ProtectedPrivateKey));
        try
        {
            switch (row.Algorithm)
            {
                case SigningAlgorithms.ES256:
                    var ecdsa = ECDsa.Create();
                    ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
                    return new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = row.Id }, SecurityAlgorithms.EcdsaSha256);
                case SigningAlgorithms.RS256:
                    var rsa = RSA.Create();
                    rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                    return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = row.Id }, SecurityAlgorithms.RsaSha256);
                default:
                    throw new InvalidOperationException($"Signing key {row.Id} has unknown algorithm '{row.Algorithm}'.");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>Makes a key pair; the kid is its RFC 7638 JWK thumbprint.</summary>
    private static (byte[] Pkcs8, string PublicJwk, string Kid) GenerateKey(string algorithm)
    {
        if (algorithm == SigningAlgorithms.RS256)
        {
            using var rsa = RSA.Create(2048);
            var p = rsa.ExportParameters(false);
            var n = Base64UrlEncoder.Encode(p.Modulus);
            var e = Base64UrlEncoder.Encode(p.Exponent);
            var kid = Thumbprint($"{{\"e\":\"{e}\",\"kty\":\"RSA\",\"n\":\"{n}\"}}");
            var jwk = JsonSerializer.Serialize(new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = algorithm, ["kid"] = kid, ["n"] = n, ["e"] = e });
            return (rsa.ExportPkcs8PrivateKey(), jwk, kid);
        }

        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ecdsa.ExportParameters(false).Q;
        var x = Base64UrlEncoder.Encode(q.X);
        var y = Base64UrlEncoder.Encode(q.Y);
        var ecKid = Thumbprint($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{x}\",\"y\":\"{y}\"}}");
        var ecJwk = JsonSerializer.Serialize(new Dictionary<string, string> { ["kty"] = "EC", ["use"] = "sig", ["alg"] = algorithm, ["kid"] = ecKid, ["crv"] = "P-256", ["x"] = x, ["y"] = y });
        return (ecdsa.ExportPkcs8PrivateKey(), ecJwk, ecKid);
    }

    public void Dispose() => writeGate.Dispose();

    private static string Thumbprint(string canonicalJwk) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));

    private sealed record KeyEntry(string Kid, int Generation, DateTimeOffset CreatedAt, DateTimeOffset ActivatesAt, DateTimeOffset RetiredAt, DateTimeOffset PublishedUntil, string PublicJwk, SigningCredentials Credentials);

    private sealed record Snapshot(IReadOnlyList<KeyEntry> Keys, IReadOnlyDictionary<string, KeyEntry> ByKid)
    {
        public static readonly Snapshot Empty = new([], new Dictionary<string, KeyEntry>());
    }

    private sealed record JwksCache(Snapshot Source, string Json, DateTimeOffset From, DateTimeOffset Until);
}

/// <summary>Initialises the ring before the server takes requests, then keeps it current: rotation on schedule, keys made by other instances.</summary>
internal sealed class SigningKeyMaintenance(SigningKeyRing ring, IOptions<TokenOptions> options, TimeProvider time, ILogger<SigningKeyMaintenance> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ring.EnsureCurrentAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Keys.ReloadInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ring.EnsureCurrentAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A store hiccup must not stop maintenance; the keys in memory keep working.
                logger.LogWarning(ex, "Signing key maintenance failed; retrying at the next tick");
            }
        }
    }
}
