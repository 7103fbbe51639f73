using System.Diagnostics;
using System.Text.Json;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// tests/rp-node: a relying party written with openid-client (an OpenID Certified library), run as
/// a node process. Its packages are installed once per test run with <c>npm ci</c> from the
/// committed lock file (npm's own cache makes later runs offline).
/// </summary>
public sealed class NodeRelyingParty : IAsyncDisposable
{
    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);
    private readonly Process process;
    private readonly Task<string> errors;

    private NodeRelyingParty(Process process)
    {
        this.process = process;
        errors = process.StandardError.ReadToEndAsync();
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts <c>node rp.mjs</c>; it discovers the server and prints its authorization URL.</summary>
    public static async Task<NodeRelyingParty> StartAsync(params string[] args)
    {
        var directory = await Installed.Value;
        var start = Start("node", directory, ["rp.mjs", .. args]);
        start.RedirectStandardInput = true;
        return new NodeRelyingParty(Process.Start(start)!);
    }

    /// <summary>The next JSON line the script writes; fails with its stderr if it exits first.</summary>
    public async Task<JsonElement> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            await process.WaitForExitAsync(timeout.Token);
            Assert.Fail($"rp.mjs exited with {process.ExitCode}: {await errors}");
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

    private static async Task<string> InstallAsync()
    {
        var directory = FindSource();
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

    /// <summary>tests/rp-node in the source tree, found upwards from the test binaries.</summary>
    private static string FindSource()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "rp-node");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/rp-node not found above " + AppContext.BaseDirectory);
    }
}
