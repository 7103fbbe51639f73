using System.Diagnostics;
using System.Text.Json;

namespace TokenServer.Tests.Infrastructure;

/// <summary>
/// Password hashes made by the real implementations: Django (Debian's python3-django) and
/// passlib (python3-passlib), run by Debian's /usr/bin/python3 (.ci/run installs them).
/// </summary>
public static class RealHashers
{
    public const string Python = "/usr/bin/python3";

    public static async Task<Dictionary<string, string>> RunAsync(string script)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{Python} failed: {error}");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(output)!;
    }

    /// <summary>Django's make_password for each of its hashers, for <paramref name="password"/>.</summary>
    public static Task<Dictionary<string, string>> DjangoAsync(string password) => RunAsync($$"""
        import json
        from django.conf import settings
        settings.configure(PASSWORD_HASHERS=[
            'django.contrib.auth.hashers.PBKDF2PasswordHasher',
            'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
            'django.contrib.auth.hashers.Argon2PasswordHasher',
            'django.contrib.auth.hashers.BCryptSHA256PasswordHasher',
            'django.contrib.auth.hashers.BCryptPasswordHasher',
            'django.contrib.auth.hashers.SHA1PasswordHasher',
            'django.contrib.auth.hashers.MD5PasswordHasher',
            'django.contrib.auth.hashers.UnsaltedMD5PasswordHasher',
        ])
        from django.contrib.auth.hashers import make_password
        names = ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt', 'sha1', 'md5', 'unsalted_md5']
        print(json.dumps({n: make_password({{JsonSerializer.Serialize(password)}}, hasher=n) for n in names}))
        """);

    /// <summary>passlib's hashes (the FastAPI stack's CryptContext schemes).</summary>
    public static Task<Dictionary<string, string>> PasslibAsync(string password) => RunAsync($$"""
        import json
        from passlib.hash import bcrypt, pbkdf2_sha256, argon2
        p = {{JsonSerializer.Serialize(password)}}
        print(json.dumps({'bcrypt': bcrypt.using(rounds=4).hash(p), 'pbkdf2_sha256': pbkdf2_sha256.hash(p), 'argon2': argon2.using(memory_cost=1024).hash(p)}))
        """);
}
