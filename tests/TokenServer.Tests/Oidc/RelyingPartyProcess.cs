using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// A peer written with another stack's OpenID Connect library, run as a process: the relying
/// parties tests/rp-node (openid-client, node) and tests/rp-python (Authlib, Debian's python3),
/// each of which writes one JSON line with its authorization URL, reads the URL the browser came
/// back to on stdin, and writes one JSON line with what it learned; and the upstream provider
/// tests/op-node (oidc-provider), which writes one JSON line when it listens.
/// </summary>
public sealed class RelyingPartyProcess : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Each node folder's packages, installed once per test run with <c>npm ci</c> from its committed lock file (npm's cache makes later runs offline).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> NodeInstalled = new(StringComparer.Ordinal);

    private readonly Process process;
    private readonly Task<string> errors;

    private RelyingPartyProcess(ProcessStartInfo start)
    {
        start.RedirectStandardInput = true;
        process = Process.Start(start)!;
        errors = process.StandardError.ReadToEndAsync();
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator)
            .Select(dir => System.IO.Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    public static Task<RelyingPartyProcess> NodeAsync(params string[] args) => NodeScriptAsync("rp-node", "rp.mjs", args);

    /// <summary>Runs <paramref name="script"/> of the node folder tests/<paramref name="folder"/> after <c>npm ci</c> there.</summary>
    public static async Task<RelyingPartyProcess> NodeScriptAsync(string folder, string script, params string[] args) =>
        new(Start("node", await NodeInstalled.GetOrAdd(folder, f => new Lazy<Task<string>>(() => InstallNodeAsync(f))).Value, [script, .. args]));

    public static RelyingPartyProcess PythonApp(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = Start(Python, SourceTree.Path("tests", "rp-python"), ["authlib_rp.py", .. args]);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new RelyingPartyProcess(start);
    }

    /// <summary>The next JSON line the script writes; fails with its stderr if it exits first.</summary>
    public async Task<JsonElement> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            await process.WaitForExitAsync(timeout.Token);
            Assert.Fail($"The relying party exited with {process.ExitCode}: {await errors}");
        }

        return JsonDocument.Parse(line).RootElement.Clone();
    }

    public Task WriteAsync(string line) => process.StandardInput.WriteLineAsync(line);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    private static async Task<string> InstallNodeAsync(string folder)
    {
        var directory = SourceTree.Path("tests", folder);
        using var npm = Process.Start(Start("npm", directory, ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"]))!;
        var output = npm.StandardOutput.ReadToEndAsync();
        var error = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await npm.WaitForExitAsync(timeout.Token);
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {directory} failed ({npm.ExitCode}): {await output}{await error}");
        }

        return directory;
    }

    private static ProcessStartInfo Start(string program, string directory, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
