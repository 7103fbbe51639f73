using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Konscious.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using BCryptNet = BCrypt.Net.BCrypt;

namespace TokenServer.Auth;

/// <summary>
/// What an import line's hash becomes in the store, or why it cannot be imported. A fast digest
/// is only wrapped in BCrypt (the slow part) when <see cref="ToStored"/> is called, so a dry
/// run and an unchanged line cost no hashing.
/// </summary>
public sealed class LegacyImport
{
    private readonly string? kept;
    private readonly string? digest;
    private readonly string? inner;
    private readonly string? salt;

    private LegacyImport(string? kept, string? digest, string? inner, string? salt, string? problem)
    {
        this.kept = kept;
        this.digest = digest;
        this.inner = inner;
        this.salt = salt;
        Problem = problem;
    }

    public string? Problem { get; }

    internal static LegacyImport Keep(string stored) => new(stored, null, null, null, null);

    internal static LegacyImport WrapLater(string digest, string innerHex, string? salt) => new(null, digest, innerHex, salt, null);

    internal static LegacyImport Refuse(string problem) => new(null, null, null, null, problem);

    /// <summary>The stored form: the hash as kept, or the fast digest wrapped in BCrypt at <paramref name="workFactor"/>.</summary>
    public string ToStored(int workFactor) => kept ?? StoredPrefix + BCryptNet.HashPassword(inner!, workFactor);

    /// <summary>True when <paramref name="stored"/> already holds this same source hash (a re-run of the same import).</summary>
    public bool IsStoredIn(string stored) =>
        kept is not null
            ? stored == kept
            : stored.StartsWith(StoredPrefix, StringComparison.Ordinal) && BCryptNet.Verify(inner!, stored[StoredPrefix.Length..]);

    /// <summary><c>bcrypt(md5):</c>, or <c>bcrypt(sha256-salted):&lt;base64 salt&gt;:</c>: what precedes the BCrypt of a wrapped digest.</summary>
    private string StoredPrefix => salt is null
        ? $"{LegacyPasswords.WrappedPrefix}{digest}):"
        : $"{LegacyPasswords.WrappedPrefix}{digest}-salted):{Convert.ToBase64String(Encoding.UTF8.GetBytes(salt))}:";
}

/// <summary>
/// Password hashes made by the platforms TokenServer replaces (README "Moving users from an existing platform"), kept until
/// the account's next successful login replaces them with TokenServer's own BCrypt.
///
/// In the store a legacy hash is <c>scheme:payload</c>; TokenServer's own hashes start with
/// <c>$2</c> and carry no scheme, so the two never collide. Slow formats (PBKDF2, Argon2,
/// BCrypt) are kept as the source system wrote them. Fast digests (MD5, SHA-1, SHA-256, salted
/// or not) are never stored: at import they are wrapped in BCrypt at the configured cost, and
/// a login computes the old digest and checks it against that BCrypt (OWASP Password Storage
/// Cheat Sheet, "Upgrading Legacy Hashes"). A wrapped account therefore costs the same BCrypt
/// work at login as any other, and the store holds no fast hash even before its first login.
/// </summary>
public static class LegacyPasswords
{
    public const string Django = "django";
    public const string Passlib = "passlib";
    public const string AspNetIdentity = "aspnet-identity";
    public const string Keycloak = "keycloak";

    /// <summary>The prefix of wrapped fast digests: <c>bcrypt(sha256-salted):salt:$2a$…</c>.</summary>
    internal const string WrappedPrefix = "bcrypt(";

    private static readonly string[] FastDigests = ["md5", "sha1", "sha256"];

    /// <summary>True when the stored hash is TokenServer's own BCrypt.</summary>
    public static bool IsNative(string stored) => stored.StartsWith("$2", StringComparison.Ordinal);

    /// <summary>
    /// The format name the legacy report groups by (<c>django pbkdf2_sha256</c>,
    /// <c>bcrypt(md5)</c>, …); null for TokenServer's own hashes.
    /// </summary>
    public static string? Describe(string stored)
    {
        if (IsNative(stored))
        {
            return null;
        }

        var colon = stored.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon < 0 ? stored : stored[..colon];
        var payload = colon < 0 ? string.Empty : stored[(colon + 1)..];
        return scheme switch
        {
            Django => $"django {payload.Split('$')[0]}",
            Passlib => $"passlib {payload.Split('$', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()}",
            Keycloak => $"keycloak {KeycloakCredential.Parse(payload)?.Algorithm}",
            _ => scheme,
        };
    }

    /// <summary>
    /// Reads an import line's hash. <paramref name="format"/> is the line's <c>hash_format</c>;
    /// without one the hash must describe itself (Django's <c>algorithm$…</c>, modular crypt's
    /// <c>$ident$…</c>).
    /// </summary>
    public static LegacyImport Import(string hash, string? format, string? salt)
    {
        hash = hash.Trim();
        if (hash.Length == 0)
        {
            return Refuse("password_hash is empty.");
        }

        switch (format?.Trim().ToLowerInvariant())
        {
            case null or "":
                break;
            case "tokenserver":
                // An export of TokenServer itself: already in stored form.
                return IsNative(hash) || IsKnownScheme(hash)
                    ? LegacyImport.Keep(hash)
                    : Refuse("password_hash is not a hash TokenServer exported.");
            case AspNetIdentity:
                return AspNetIdentityHash.IsWellFormed(hash) ? Keep(AspNetIdentity, hash) : Refuse("password_hash is not an ASP.NET Core Identity V2 or V3 hash (base64 of a 0x00 or 0x01 format marker and its fields).");
            case Keycloak:
                return KeycloakCredential.Parse(hash) is { } credential && credential.Prf is not null
                    ? Keep(Keycloak, hash)
                    : Refuse("password_hash is not a Keycloak password credential (secretData with value and salt, credentialData with hashIterations and a pbkdf2 algorithm).");
            case var f when f.EndsWith("-salted", StringComparison.Ordinal) && FastDigests.Contains(f[..^"-salted".Length]):
                return salt is null ? Refuse($"hash_format {f} needs the salt column.") : Wrap(f[..^"-salted".Length], hash, salt);
            case var f when FastDigests.Contains(f):
                return Wrap(f, hash, null);
            default:
                return Refuse($"Unknown hash_format '{format}'. Use aspnet-identity, keycloak, md5, sha1, sha256, md5-salted, sha1-salted, sha256-salted or tokenserver, or leave it out for Django and modular-crypt ($…) hashes.");
        }

        if (hash.StartsWith("$2", StringComparison.Ordinal) || hash.StartsWith("$pbkdf2", StringComparison.Ordinal) || hash.StartsWith("$argon2", StringComparison.Ordinal))
        {
            return CanVerifyPasslib(hash) ? Keep(Passlib, hash) : Refuse("password_hash is a modular-crypt hash TokenServer cannot read: use $2a$/$2b$/$2y$ bcrypt, $pbkdf2$, $pbkdf2-sha256$, $pbkdf2-sha512$ or $argon2i$/$argon2id$ (v=19).");
        }

        var fields = hash.Split('$');
        return fields[0] switch
        {
            // Django's fast hashers (django.contrib.auth.hashers): md5/sha1 are digest(salt + password).
            "md5" or "sha1" when fields.Length == 3 => Wrap(fields[0], fields[2], fields[1].Length == 0 ? null : fields[1]),
            "unsalted_md5" => Wrap("md5", hash[(hash.IndexOf('$', StringComparison.Ordinal) + 1)..], null),
            "unsalted_sha1" when fields.Length == 3 => Wrap("sha1", fields[2], null),
            "pbkdf2_sha256" or "pbkdf2_sha1" or "argon2" or "bcrypt" or "bcrypt_sha256" => CanVerifyDjango(hash) ? Keep(Django, hash) : Refuse($"password_hash is a Django {fields[0]} hash TokenServer cannot read."),
            _ when hash.StartsWith('!') => Refuse("password_hash is Django's unusable password: the account has no password to move."),
            _ when hash.Length is 32 or 40 or 64 && IsHex(hash) => Refuse("password_hash looks like a bare hex digest: say which with hash_format md5, sha1 or sha256 (and -salted with salt)."),
            _ => Refuse("password_hash is in no format TokenServer knows: give hash_format (aspnet-identity, keycloak, md5, sha1, sha256, md5-salted, sha1-salted, sha256-salted) or a Django or modular-crypt hash."),
        };
    }

    /// <summary>Checks a password against a stored legacy hash. Malformed hashes never match.</summary>
    public static bool Verify(string password, string stored)
    {
        var colon = stored.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        var scheme = stored[..colon];
        var payload = stored[(colon + 1)..];
        try
        {
            return scheme switch
            {
                Django => VerifyDjango(password, payload),
                Passlib => VerifyPasslib(password, payload),
                AspNetIdentity => AspNetIdentityHash.Verify(password, payload),
                Keycloak => KeycloakCredential.Parse(payload) is { } c && c.Verify(password),
                _ when scheme.StartsWith(WrappedPrefix, StringComparison.Ordinal) => VerifyWrapped(password, scheme, payload),
                _ => false,
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or BCrypt.Net.SaltParseException or CryptographicException or OverflowException or JsonException)
        {
            return false;
        }
    }

    private static LegacyImport Keep(string scheme, string hash) => LegacyImport.Keep($"{scheme}:{hash}");

    private static LegacyImport Refuse(string problem) => LegacyImport.Refuse(problem);

    private static bool IsKnownScheme(string stored) =>
        stored.StartsWith(WrappedPrefix, StringComparison.Ordinal)
        || stored.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && stored[..colon] is Django or Passlib or AspNetIdentity or Keycloak;

    private static bool IsHex(string s) => s.All(Uri.IsHexDigit);

    // Wrapped fast digests ---------------------------------------------------------------

    private static LegacyImport Wrap(string digest, string value, string? salt)
    {
        var bytes = DecodeDigest(value.Trim(), DigestLength(digest));
        return bytes is null
            ? Refuse($"password_hash is not a {digest} digest (hex or base64 of {DigestLength(digest)} bytes).")
            : LegacyImport.WrapLater(digest, Convert.ToHexStringLower(bytes), salt);
    }

    private static bool VerifyWrapped(string password, string scheme, string payload)
    {
        var name = scheme[WrappedPrefix.Length..^1];
        byte[] input;
        string bcrypt;
        if (name.EndsWith("-salted", StringComparison.Ordinal))
        {
            name = name[..^"-salted".Length];
            var separator = payload.IndexOf(':', StringComparison.Ordinal);
            var salt = Convert.FromBase64String(payload[..separator]);
            input = [.. salt, .. Encoding.UTF8.GetBytes(password)];
            bcrypt = payload[(separator + 1)..];
        }
        else
        {
            input = Encoding.UTF8.GetBytes(password);
            bcrypt = payload;
        }

        // The legacy formats are MD5 and SHA-1: only read here, to move the account to BCrypt.
#pragma warning disable CA5350, CA5351
        var digest = name switch
        {
            "md5" => MD5.HashData(input),
            "sha1" => SHA1.HashData(input),
            "sha256" => SHA256.HashData(input),
            _ => null,
        };
#pragma warning restore CA5350, CA5351
        return digest is not null && BCryptNet.Verify(Convert.ToHexStringLower(digest), bcrypt);
    }

    private static int DigestLength(string digest) => digest switch
    {
        "md5" => 16,
        "sha1" => 20,
        _ => 32,
    };

    private static byte[]? DecodeDigest(string value, int length)
    {
        if (value.Length == length * 2 && IsHex(value))
        {
            return Convert.FromHexString(value);
        }

        var buffer = new byte[length + 3];
        return Convert.TryFromBase64String(value, buffer, out var written) && written == length ? buffer[..length] : null;
    }

    // Django (django.contrib.auth.hashers) -----------------------------------------------

    private static bool CanVerifyDjango(string hash)
    {
        var f = hash.Split('$');
        return f[0] switch
        {
            "pbkdf2_sha256" or "pbkdf2_sha1" => f.Length == 4 && int.TryParse(f[1], CultureInfo.InvariantCulture, out var n) && n > 0 && IsBase64(f[3]),
            "argon2" => Argon2Hash.Parse(hash[(hash.IndexOf('$', StringComparison.Ordinal) + 1)..]) is not null,
            "bcrypt" or "bcrypt_sha256" => f.Length >= 5 && f[1].Length == 0 && f[2].StartsWith('2'),
            _ => false,
        };
    }

    private static bool VerifyDjango(string password, string hash)
    {
        var dollar = hash.IndexOf('$', StringComparison.Ordinal);
        var algorithm = hash[..dollar];
        var rest = hash[(dollar + 1)..];
        switch (algorithm)
        {
            case "pbkdf2_sha256" or "pbkdf2_sha1":
                var f = rest.Split('$');
                var expected = Convert.FromBase64String(f[2]);
                var prf = algorithm == "pbkdf2_sha256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1;
                return Pbkdf2Matches(password, Encoding.UTF8.GetBytes(f[1]), int.Parse(f[0], CultureInfo.InvariantCulture), prf, expected);
            case "argon2":
                return Argon2Hash.Parse(rest)?.Verify(password) == true;
            case "bcrypt":
                return BCryptNet.Verify(password, rest);
            case "bcrypt_sha256":
                // Django hashes the password with SHA-256 first (hex digest) so every byte counts.
                return BCryptNet.Verify(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password))), rest);
            default:
                return false;
        }
    }

    // passlib / modular crypt -------------------------------------------------------------

    private static bool CanVerifyPasslib(string hash)
    {
        if (hash.StartsWith("$2", StringComparison.Ordinal))
        {
            return hash.Length == 60 && hash[2] is 'a' or 'b' or 'y' && hash[3] == '$';
        }

        if (hash.StartsWith("$argon2", StringComparison.Ordinal))
        {
            return Argon2Hash.Parse(hash[1..]) is not null;
        }

        var f = hash.Split('$');
        return f.Length == 5 && PasslibPrf(f[1]) is not null && int.TryParse(f[2], CultureInfo.InvariantCulture, out var n) && n > 0;
    }

    private static bool VerifyPasslib(string password, string hash)
    {
        if (hash.StartsWith("$2", StringComparison.Ordinal))
        {
            return BCryptNet.Verify(password, hash);
        }

        if (hash.StartsWith("$argon2", StringComparison.Ordinal))
        {
            return Argon2Hash.Parse(hash[1..])?.Verify(password) == true;
        }

        // passlib.hash.pbkdf2_sha256: $pbkdf2-sha256$rounds$salt$checksum, salt and checksum in
        // passlib's "adapted base64" ('.' for '+', no padding).
        var f = hash.Split('$');
        return PasslibPrf(f[1]) is { } prf
            && Pbkdf2Matches(password, AdaptedBase64(f[3]), int.Parse(f[2], CultureInfo.InvariantCulture), prf, AdaptedBase64(f[4]));
    }

    private static HashAlgorithmName? PasslibPrf(string ident) => ident switch
    {
        "pbkdf2" => HashAlgorithmName.SHA1,
        "pbkdf2-sha256" => HashAlgorithmName.SHA256,
        "pbkdf2-sha512" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static byte[] AdaptedBase64(string value) => UnpaddedBase64(value.Replace('.', '+'));

    private static byte[] UnpaddedBase64(string value) =>
        Convert.FromBase64String(value.PadRight(value.Length + ((4 - (value.Length % 4)) % 4), '='));

    private static bool IsBase64(string value) => Convert.TryFromBase64String(value, new byte[value.Length], out _);

    private static bool Pbkdf2Matches(string password, byte[] salt, int iterations, HashAlgorithmName prf, byte[] expected)
    {
        if (expected.Length == 0 || iterations > 10_000_000)
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, prf, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    // ASP.NET Core Identity ---------------------------------------------------------------

    /// <summary>ASP.NET Core Identity's own PasswordHasher reads both V2 (0x00) and V3 (0x01) hashes.</summary>
    private static class AspNetIdentityHash
    {
        private static readonly PasswordHasher<object> Hasher = new();

        public static bool IsWellFormed(string hash)
        {
            var buffer = new byte[hash.Length];
            return Convert.TryFromBase64String(hash, buffer, out var length) && length > 0 && buffer[0] is 0x00 or 0x01;
        }

        public static bool Verify(string password, string hash) =>
            Hasher.VerifyHashedPassword(new object(), hash, password) != PasswordVerificationResult.Failed;
    }

    // Keycloak ---------------------------------------------------------------------------

    /// <summary>
    /// A password credential from a Keycloak realm export: <c>secretData</c> (value and salt,
    /// base64) and <c>credentialData</c> (hashIterations, algorithm), each a JSON string inside
    /// the credential object, as the export writes them; the flat form of older exports
    /// (value, salt, hashIterations, algorithm on the credential itself) is read too.
    /// </summary>
    private sealed record KeycloakCredential(string Algorithm, int Iterations, byte[] Salt, byte[] Value)
    {
        public HashAlgorithmName? Prf => Algorithm switch
        {
            "pbkdf2" => HashAlgorithmName.SHA1,
            "pbkdf2-sha256" => HashAlgorithmName.SHA256,
            "pbkdf2-sha512" => HashAlgorithmName.SHA512,
            _ => null,
        };

        public bool Verify(string password) => Prf is { } prf && Pbkdf2Matches(password, Salt, Iterations, prf, Value);

        public static KeycloakCredential? Parse(string json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                var secret = Inner(root, "secretData") ?? root;
                var data = Inner(root, "credentialData") ?? root;
                var algorithm = data.TryGetProperty("algorithm", out var a) ? a.GetString() : null;
                var iterations = data.TryGetProperty("hashIterations", out var i) ? i.GetInt32() : 0;
                var salt = secret.TryGetProperty("salt", out var s) ? s.GetString() : null;
                var value = secret.TryGetProperty("value", out var v) ? v.GetString() : null;
                return algorithm is null || iterations <= 0 || salt is null || value is null
                    ? null
                    : new KeycloakCredential(algorithm, iterations, Convert.FromBase64String(salt), Convert.FromBase64String(value));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                return null;
            }
        }

        private static JsonElement? Inner(JsonElement root, string name) =>
            root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String
                ? JsonDocument.Parse(p.GetString()!).RootElement.Clone()
                : null;
    }

    // Argon2 (PHC string format) ---------------------------------------------------------

    private sealed record Argon2Hash(string Variant, int Memory, int Iterations, int Parallelism, byte[] Salt, byte[] Hash)
    {
        /// <summary>
        /// <c>argon2id$v=19$m=…,t=…,p=…$salt$hash</c> (after Django's <c>argon2$</c> or the
        /// modular-crypt <c>$</c>), salt and hash in unpadded base64. Only version 19 (1.3):
        /// the version the library implements and every hasher has written since 2016.
        /// </summary>
        public static Argon2Hash? Parse(string value)
        {
            var f = value.Split('$');
            if (f.Length != 5 || f[0] is not ("argon2id" or "argon2i" or "argon2d") || f[1] != "v=19")
            {
                return null;
            }

            var parameters = f[2].Split(',').Select(p => p.Split('=')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            if (!parameters.TryGetValue("m", out var m) || !parameters.TryGetValue("t", out var t) || !parameters.TryGetValue("p", out var p)
                || !int.TryParse(m, CultureInfo.InvariantCulture, out var memory) || !int.TryParse(t, CultureInfo.InvariantCulture, out var iterations)
                || !int.TryParse(p, CultureInfo.InvariantCulture, out var parallelism)
                || memory is < 8 or > 1024 * 1024 || iterations is < 1 or > 100 || parallelism is < 1 or > 64)
            {
                return null;
            }

            try
            {
                return new Argon2Hash(f[0], memory, iterations, parallelism, UnpaddedBase64(f[3]), UnpaddedBase64(f[4]));
            }
            catch (FormatException)
            {
                return null;
            }
        }

        public bool Verify(string password)
        {
            var bytes = Encoding.UTF8.GetBytes(password);
            using Argon2 argon2 = Variant switch
            {
                "argon2id" => new Argon2id(bytes),
                "argon2i" => new Argon2i(bytes),
                _ => new Argon2d(bytes),
            };
            argon2.Salt = Salt;
            argon2.MemorySize = Memory;
            argon2.Iterations = Iterations;
            argon2.DegreeOfParallelism = Parallelism;
            return CryptographicOperations.FixedTimeEquals(argon2.GetBytes(Hash.Length), Hash);
        }
    }
}
