using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenServer.LoadRunner;

/// <summary>
/// Starts the published server (Release) on loopback with a fresh store, pins it and this
/// load generator to different cores where the machine has them, runs fixed-time scenarios
/// and reports requests/s, p50/p99 latency, errors by status and the server's peak memory.
/// Usage: dotnet run -c Release --project bench/TokenServer.LoadRunner -- [--seconds N] [--concurrency N] [--instances N]
/// [--samples N] [--work-factor N] [--smoke] [--no-publish] [--out file.json] [--scenario name]... [--set Key=Value]...
/// </summary>
internal static class Program
{
    private const string Password = "load-password-123";

    private static async Task<int> Main(string[] args)
    {
        var options = RunOptions.Parse(args);
        var root = FindRepositoryRoot();
        var serverDirectory = Path.Combine(root, "bench", ".server");
        if (!options.NoPublish)
        {
            Run("dotnet", ["publish", Path.Combine(root, "src", "TokenServer"), "-c", "Release", "-o", serverDirectory, "--nologo", "-v", "q"]);
        }

        var storeDirectory = Directory.CreateTempSubdirectory("tokenserver-bench-");
        var servers = Enumerable.Range(0, options.Instances).Select(_ => StartServer(serverDirectory, storeDirectory.FullName, options)).ToList();
        using var client = new HttpClient(new RoundRobinHandler(servers.Select(s => s.BaseAddress).ToList()))
        {
            BaseAddress = servers[0].BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var firstRequest = TimeSpan.Zero;
        foreach (var server in servers)
        {
            using var direct = new HttpClient { BaseAddress = server.BaseAddress };
            var answered = await WaitForHealthAsync(direct, server.Started);
            firstRequest = answered > firstRequest ? answered : firstRequest;
            Console.WriteLine($"server pid {server.Process.Id} on {server.BaseAddress}, first answer {answered.TotalMilliseconds:F0} ms after start");
        }

        var server0 = servers[0];

        var setup = await Setup.CreateAsync(client, options);
        var results = new List<ScenarioResult>();
        foreach (var scenario in Scenarios.All(setup, options).Where(s => options.Scenarios.Count == 0 || options.Scenarios.Contains(s.Name)))
        {
            var result = await scenario.RunAsync(client, options);
            results.Add(result);
            Console.WriteLine(result.Describe());
        }

        var report = new JsonObject
        {
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            ["server_cpus"] = server0.CpuDescription,
            ["instances"] = options.Instances,
            ["store"] = options.ServerSettings.GetValueOrDefault("Database__Provider", "Sqlite"),
            ["seconds_per_scenario"] = options.Seconds,
            ["concurrency"] = options.Concurrency,
            ["work_factor"] = options.WorkFactor,
            ["first_request_ms"] = Math.Round(firstRequest.TotalMilliseconds),
            ["peak_memory_mb"] = Math.Round(servers.Max(s => s.PeakMemoryMegabytes()), 1),
            ["scenarios"] = new JsonArray(results.Select(r => (JsonNode)r.ToJson()).ToArray()),
        };
        Console.WriteLine($"server peak memory (VmHWM, largest instance): {servers.Max(s => s.PeakMemoryMegabytes()):F1} MB");
        if (options.Output is { } output)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {output}");
        }

        foreach (var server in servers)
        {
            server.Dispose();
        }

        storeDirectory.Delete(recursive: true);
        var failed = results.Where(r => r.ServerErrors > 0 || r.Completed == 0).ToList();
        foreach (var f in failed)
        {
            Console.Error.WriteLine($"FAILED: {f.Name} completed {f.Completed} requests with {f.ServerErrors} 5xx");
        }

        return failed.Count == 0 ? 0 : 1;
    }

    private static ServerProcess StartServer(string directory, string store, RunOptions options)
    {
        var port = FreePort();
        var half = Environment.ProcessorCount / 2;
        // Pinned from its first instruction (taskset), the server sees only its own cores, so
        // everything sized by core count (the hashing gate, the GC) is sized as in production.
        var pin = half >= 1 && OperatingSystem.IsLinux() && File.Exists("/usr/bin/taskset");
        var dll = Path.Combine(directory, "TokenServer.dll");
        var start = new ProcessStartInfo(pin ? "/usr/bin/taskset" : "dotnet", pin ? ["-c", $"0-{half - 1}", "dotnet", dll] : [dll])
        {
            WorkingDirectory = store,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["ConnectionStrings__TokenServer"] = $"Data Source={Path.Combine(store, "bench.db")}";
        start.Environment["TokenServer__Passwords__WorkFactor"] = options.WorkFactor.ToString(CultureInfo.InvariantCulture);
        start.Environment["TokenServer__Bootstrap__AdminEmail"] = Setup.AdminEmail;
        start.Environment["TokenServer__Bootstrap__AdminPassword"] = Password;
        // One machine generates all the load from one address: the per-address login limits
        // would measure themselves, not the server.
        start.Environment["TokenServer__RateLimits__PermitLimit"] = "100000000";
        start.Environment["TokenServer__RateLimits__Enabled"] = "false";
        foreach (var (key, value) in options.ServerSettings)
        {
            start.Environment[key] = value;
        }

        var started = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[server] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var cpus = "shared";
        if (pin && OperatingSystem.IsLinux())
        {
            // Server on the first half of the cores, load generator on the rest.
            var serverMask = (1L << half) - 1;
            Process.GetCurrentProcess().ProcessorAffinity = (nint)(((1L << Environment.ProcessorCount) - 1) & ~serverMask);
            cpus = $"server cores 0-{half - 1}, load generator cores {half}-{Environment.ProcessorCount - 1}";
        }

        return new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"), started, cpus);
    }

    private static async Task<TimeSpan> WaitForHealthAsync(HttpClient client, Stopwatch started)
    {
        while (started.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await client.GetAsync("/api/v1/health");
                if (response.IsSuccessStatusCode)
                {
                    return started.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        throw new InvalidOperationException("The server did not answer /api/v1/health within 60 s.");
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TokenServer.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run the load runner from inside the repository.");
    }

    private static void Run(string file, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with {process.ExitCode}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string PasswordFor => Password;
}

internal sealed record RunOptions(int Seconds, int Concurrency, int WorkFactor, bool NoPublish, string? Output, HashSet<string> Scenarios, int Samples, Dictionary<string, string> ServerSettings, int Instances = 1)
{
    public static RunOptions Parse(string[] args)
    {
        var o = new RunOptions(10, 32, 10, false, null, [], 100_000, []);
        for (var i = 0; i < args.Length; i++)
        {
            o = args[i] switch
            {
                "--seconds" => o with { Seconds = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--concurrency" => o with { Concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--work-factor" => o with { WorkFactor = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--samples" => o with { Samples = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--instances" => o with { Instances = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--no-publish" => o with { NoPublish = true },
                "--smoke" => o with { Seconds = 2, Concurrency = 8, Samples = 500 },
                "--out" => o with { Output = args[++i] },
                "--scenario" => Add(o, args[++i]),
                "--set" => Set(o, args[++i]),
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. See the usage at the top of Program.cs."),
            };
        }

        return o;
    }

    private static RunOptions Add(RunOptions o, string scenario)
    {
        o.Scenarios.Add(scenario);
        return o;
    }

    private static RunOptions Set(RunOptions o, string pair)
    {
        var split = pair.IndexOf('=', StringComparison.Ordinal);
        o.ServerSettings[pair[..split]] = pair[(split + 1)..];
        return o;
    }
}

/// <summary>
/// Sends each request to the next server instance in turn, as a load balancer would: with two
/// instances, consecutive refreshes of one chain land on different instances.
/// </summary>
internal sealed class RoundRobinHandler(IReadOnlyList<Uri> servers)
    : DelegatingHandler(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    private int next = -1;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var target = servers[(int)((uint)Interlocked.Increment(ref next) % (uint)servers.Count)];
        request.RequestUri = new UriBuilder(request.RequestUri!) { Host = target.Host, Port = target.Port }.Uri;
        return base.SendAsync(request, cancellationToken);
    }
}

internal sealed class ServerProcess(Process process, Uri baseAddress, Stopwatch started, string cpuDescription) : IDisposable
{
    private double peakMegabytes;

    public Process Process => process;

    public Uri BaseAddress => baseAddress;

    public Stopwatch Started => started;

    public string CpuDescription => cpuDescription;

    /// <summary>The kernel's high-water mark of the server's resident memory (VmHWM).</summary>
    public double PeakMemoryMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peakMegabytes = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or the process is gone: keep the last reading.
        }

        return peakMegabytes;
    }

    public void Stop()
    {
        PeakMemoryMegabytes();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }
}

internal sealed record ScenarioResult(string Name, int Completed, double Seconds, double P50, double P99, IReadOnlyDictionary<int, int> Statuses, int ServerErrors, JsonObject? Extra)
{
    public double RequestsPerSecond => Completed / Seconds;

    public string Describe() =>
        $"{Name,-28} {RequestsPerSecond,10:F0} req/s   p50 {P50,7:F2} ms   p99 {P99,7:F2} ms   statuses {string.Join(' ', Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}:{s.Value}"))}"
        + (Extra is null ? string.Empty : $"   {Extra.ToJsonString()}");

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["name"] = Name,
            ["requests"] = Completed,
            ["requests_per_second"] = Math.Round(RequestsPerSecond, 1),
            ["p50_ms"] = Math.Round(P50, 3),
            ["p99_ms"] = Math.Round(P99, 3),
            ["statuses"] = new JsonObject(Statuses.OrderBy(s => s.Key).Select(s => KeyValuePair.Create(s.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)s.Value))),
        };
        if (Extra is not null)
        {
            json["extra"] = Extra.DeepClone();
        }

        return json;
    }
}

internal sealed class Recorder
{
    private readonly ConcurrentBag<List<double>> latencies = [];
    private readonly ConcurrentDictionary<int, int> statuses = new();

    public List<double> NewWorker()
    {
        var list = new List<double>(4096);
        latencies.Add(list);
        return list;
    }

    public void Status(int code) => statuses.AddOrUpdate(code, 1, (_, n) => n + 1);

    public ScenarioResult Result(string name, double seconds, JsonObject? extra = null)
    {
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
        var counts = new Dictionary<int, int>(statuses);
        return new ScenarioResult(name, all.Length, seconds, Percentile(0.50), Percentile(0.99), counts, counts.Where(s => s.Key >= 500).Sum(s => s.Value), extra);
    }
}
