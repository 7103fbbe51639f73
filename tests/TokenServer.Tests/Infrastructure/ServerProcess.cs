using System.Diagnostics;
using System.Text;

namespace TokenServer.Tests.Infrastructure;

/// <summary>
/// The server binary run as its own process on a test's store, on a free loopback port, for
/// tests of what only a real process shows (a kill, a restart). Killed when disposed.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private ServerProcess(Process process, HttpClient client)
    {
        this.process = process;
        Client = client;
    }

    public HttpClient Client { get; }

    /// <summary>What the server printed so far, for a failing assertion's message.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(TestStore store, IReadOnlyDictionary<string, string>? settings = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.Environment["Database__Provider"] = store.Provider;
        start.Environment["ConnectionStrings__TokenServer"] = store.ConnectionString;
        start.Environment["Urls"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["TokenServer__Passwords__WorkFactor"] = "4";
        start.Environment["TokenServer__Bootstrap__AdminEmail"] = TokenServerFactory.AdminEmail;
        start.Environment["TokenServer__Bootstrap__AdminPassword"] = TokenServerFactory.AdminPassword;
        start.Environment["TokenServer__RateLimits__PermitLimit"] = "100000";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new ServerProcess(process, new HttpClient());
        void Read(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (server.output)
            {
                server.output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Now listening on: ", StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data[e.Data.IndexOf("http", StringComparison.Ordinal)..].Trim());
            }
        }

        process.OutputDataReceived += Read;
        process.ErrorDataReceived += Read;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var exited = process.WaitForExitAsync();
            var first = await Task.WhenAny(listening.Task, exited).WaitAsync(TimeSpan.FromSeconds(90));
            if (first != listening.Task)
            {
                throw new InvalidOperationException($"The server exited before listening:\n{server.Output}");
            }

            server.Client.BaseAddress = new Uri(await listening.Task);
            await server.HealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Listening comes before the store is ready on a busy machine: wait for health's 200.</summary>
    private async Task HealthyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            using var health = await Client.GetAsync("/api/v1/health");
            if (health.StatusCode == System.Net.HttpStatusCode.OK)
            {
                return;
            }

            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new InvalidOperationException($"The server did not become healthy ({(int)health.StatusCode}):\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: the process ends at once, with no shutdown of any kind.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
        Client.Dispose();
    }
}
