using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Docs;

/// <summary>
/// docs/protecting-your-api.md: the Python snippet (PyJWT, Debian's python3-jwt, which .ci/run
/// installs) accepts a real TokenServer's token through discovery and JWKS, and rejects a tampered one.
/// </summary>
public sealed class ProtectingYourApiTests
{
    [Fact]
    public async Task PythonSnippet_AcceptsARealToken_AndRejectsATamperedOne()
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
            var tampered = await RunPythonAsync(issuer, $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA");
            Assert.Equal(1, tampered.ExitCode);
            Assert.StartsWith("rejected: Signature verification failed", tampered.Error.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static async Task<CliResult> RunPythonAsync(string issuer, string token)
    {
        var snippet = Path.Combine(RepositoryRoot(), "docs", "snippets", "verify_token.py");
        var start = new ProcessStartInfo(RealHashers.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { snippet, issuer, "tokenserver", token })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
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
