using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Docs;

/// <summary>
/// docs/protecting-your-api.md: the Python snippet (PyJWT, Debian's python3-jwt, which .ci/run
/// installs) and the Node snippet (jose, installed from npm as docs/snippets/package.json pins it)
/// accept a real TokenServer's token through discovery and JWKS, and reject a tampered one.
/// </summary>
public sealed class ProtectingYourApiTests
{
    [Fact]
    public async Task PythonAndNodeSnippets_AcceptARealToken_AndRejectATamperedOne()
    {
        using var store = TestStore.Create();

        // The issuer must be the address the snippet fetches discovery from, so the port is chosen first.
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var issuer = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.Environment["Database__Provider"] = store.Provider;
        start.Environment["ConnectionStrings__TokenServer"] = store.ConnectionString;
        start.Environment["Urls"] = issuer;
        start.Environment["TokenServer__Issuer"] = issuer;
        start.Environment["TokenServer__Passwords__WorkFactor"] = "4";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        using var server = Process.Start(start)!;
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(issuer) };
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var health = await client.GetAsync("/api/v1/health");
                    if (health.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (attempt < 600)
                {
                }

                await Task.Delay(100);
            }

            var login = await client.RegisterAndLoginAsync("py@example.org");
            var sub = Compat.Jwt.Payload(login.AccessToken).GetProperty("sub").GetString();

            var accepted = await RunPythonAsync(issuer, login.AccessToken);
            Assert.True(accepted.ExitCode == 0, accepted.Error);
            Assert.Equal($"{sub} researcher", accepted.Output.Trim());

            var parts = login.AccessToken.Split('.');
            var forged = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA";
            var tampered = await RunPythonAsync(issuer, forged);
            Assert.Equal(1, tampered.ExitCode);
            Assert.StartsWith("rejected: Signature verification failed", tampered.Error.Trim(), StringComparison.Ordinal);

            var node = await NodeSnippetAsync();
            var nodeAccepted = await RunAsync("node", node, issuer, "tokenserver", login.AccessToken);
            Assert.True(nodeAccepted.ExitCode == 0, nodeAccepted.Error);
            Assert.Equal($"{sub} researcher", nodeAccepted.Output.Trim());
            var nodeTampered = await RunAsync("node", node, issuer, "tokenserver", forged);
            Assert.Equal(1, nodeTampered.ExitCode);
            Assert.Equal("rejected: ERR_JWS_SIGNATURE_VERIFICATION_FAILED", nodeTampered.Error.Trim());
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static Task<CliResult> RunPythonAsync(string issuer, string token) =>
        RunAsync(RealHashers.Python, Path.Combine(RepositoryRoot(), "docs", "snippets", "verify_token.py"), issuer, "tokenserver", token);

    /// <summary>The Node snippet in a directory of its own, with the jose that docs/snippets/package.json pins installed beside it.</summary>
    private static async Task<string> NodeSnippetAsync()
    {
        var snippets = Path.Combine(RepositoryRoot(), "docs", "snippets");
        var directory = Directory.CreateTempSubdirectory("tokenserver-jose-").FullName;
        File.Copy(Path.Combine(snippets, "package.json"), Path.Combine(directory, "package.json"));
        File.Copy(Path.Combine(snippets, "verify-token.mjs"), Path.Combine(directory, "verify-token.mjs"));
        var install = await RunInAsync(directory, "npm", "install", "--no-audit", "--no-fund");
        Assert.True(install.ExitCode == 0, install.Error);
        return Path.Combine(directory, "verify-token.mjs");
    }

    private static Task<CliResult> RunAsync(string program, params string[] args) => RunInAsync(Path.GetTempPath(), program, args);

    private static async Task<CliResult> RunInAsync(string workingDirectory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TokenServer.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The test runs outside the repository: no TokenServer.sln above " + AppContext.BaseDirectory);
    }
}
