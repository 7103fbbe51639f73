using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.MultiInstance;

/// <summary>
/// Two real TokenServer processes on two loopback ports sharing one fresh PostgreSQL
/// database, as an operator runs them behind a load balancer.
/// </summary>
public class TwoInstances : IAsyncLifetime
{
    public const string AdminEmail = "admin@multi.test";
    public const string AdminPassword = "admin-password-123";

    private readonly List<ServerProcess> servers = [];
    private TestStore? store;

    public HttpClient A { get; private set; } = null!;

    /// <summary>Configuration both instances get on top of <see cref="ServerProcess"/>'s own.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    public HttpClient B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestStore.SkipReason is not null)
        {
            return;
        }

        store = TestStore.Create();
        // Both start at once on an empty database: migration and the first signing key must not race.
        var starting = new[] { ServerProcess.StartAsync(store, Settings), ServerProcess.StartAsync(store, Settings) };
        servers.AddRange(await Task.WhenAll(starting));
        A = servers[0].Client;
        B = servers[1].Client;
    }

    public Task DisposeAsync()
    {
        foreach (var server in servers)
        {
            server.Dispose();
        }

        store?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Two instances that poll the store only once a minute, so that only PostgreSQL's
/// notifications can explain one instance learning of another's change within seconds.
/// </summary>
public sealed class TwoInstancesPollingSlowly : TwoInstances
{
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["TokenServer__RevocationPollInterval"] = "00:01:00",
    };
}

public sealed class ServerProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> output = [];

    private ServerProcess(Process process, HttpClient client)
    {
        this.process = process;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<ServerProcess> StartAsync(TestStore store, IReadOnlyDictionary<string, string> settings)
    {
        var port = FreePort();
        var directory = Path.GetDirectoryName(typeof(Program).Assembly.Location)!;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(directory, "TokenServer.dll")])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["Database__Provider"] = store.Provider;
        env["ConnectionStrings__TokenServer"] = store.ConnectionString;
        env["TokenServer__Issuer"] = "http://tokenserver.multi.test";
        env["TokenServer__Passwords__WorkFactor"] = "4";
        // Every test of the class logs in from 127.0.0.1 against these two processes; the
        // per-address credential limit is tested elsewhere (Security/BruteForceTests).
        env["TokenServer__RateLimits__PermitLimit"] = "10000";
        env["TokenServer__Bootstrap__AdminEmail"] = TwoInstances.AdminEmail;
        env["TokenServer__Bootstrap__AdminPassword"] = TwoInstances.AdminPassword;
        env["TokenServer__Keys__PublishLead"] = "00:00:03";
        env["TokenServer__Keys__ReloadInterval"] = "00:00:01";
        foreach (var (key, value) in settings)
        {
            env[key] = value;
        }

        var process = Process.Start(start)!;
        var server = new ServerProcess(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var health = await server.Client.GetAsync("/api/v1/health");
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        var log = server.Output;
        server.Dispose();
        throw new InvalidOperationException($"TokenServer on port {port} did not become healthy:\n{log}");
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return string.Join('\n', output);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
        Client.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.Add(line);
            if (output.Count > 200)
            {
                output.RemoveAt(0);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
