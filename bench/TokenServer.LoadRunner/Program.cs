using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenServer.LoadRunner;

/// <summary>
/// Starts the published server (Release, ReadyToRun) on loopback with a fresh store, pins it and this
/// load generator to different cores where the machine has them, creates the accounts, a
/// service client and the samples, then restarts the server on that store (the first answer
/// of both starts is reported), runs fixed-time scenarios and reports requests/s, p50/p99
/// latency, errors by status and the server's peak memory. Each scenario first runs unmeasured
/// for --warm-up seconds (3; 0 with --smoke). The login bound (BCrypt verifies per second on one
/// core) is measured in the same run, and so is the bare JwtBearer baseline (Baseline.cs: its peak
/// memory and its public and protected GET; when --scenario names are given, it runs only if
/// bare-protected-get-me is one of them). With --large-store (SQLite only) it
/// then stops the server, writes many accounts, sessions with refresh tokens and revoked token
/// ids straight into the store file, restarts it and runs protected GET, login and refresh
/// again, reporting each against its empty-store figure.
/// Usage: dotnet run -c Release --project bench/TokenServer.LoadRunner -- [--seconds N] [--concurrency N] [--instances N]
/// [--samples N] [--work-factor N] [--warm-up N] [--smoke] [--no-publish] [--out file.json] [--scenario name]... [--set Key=Value]... [--compare-one-instance]
/// [--large-store [--large-accounts N] [--large-sessions N] [--large-revoked N]]
/// --scenario selects by name; "login" also selects "login-large-store" and the reverse.
/// With --instances N, each instance runs on its own share of the server cores where there are
/// enough (CpuList); --compare-one-instance then reruns the scaling scenarios on one instance.
/// --large-store counts default to 100,000 accounts, 100,000 sessions and 1,000,000 revoked
/// token ids; with --smoke to 1,000, 1,000 and 10,000.
/// </summary>
internal static class Program
{
    private const string Password = "load-password-123";

    private const string Usage = """
        Usage: dotnet run -c Release --project bench/TokenServer.LoadRunner -- [options]
          --seconds N          measured seconds a scenario (10)       --warm-up N     unmeasured seconds first (3)
          --concurrency N      connections a scenario (32)            --samples N     samples seeded (100000)
          --work-factor N      BCrypt work factor of the run (10)     --instances N   servers on one store (1)
          --scenario NAME      run only these (repeatable); the names are in docs/performance.md
          --set KEY=VALUE      a server setting, e.g. Database__Provider=Postgres (repeatable)
          --compare-one-instance  with --instances N >= 2: then rerun protected GET, refresh and
                               client_credentials on one instance (one instance's cores) and report N over one
          --large-store        then refill the SQLite store and rerun protected GET, login, refresh
          --large-accounts N, --large-sessions N, --large-revoked N
          --smoke              2 s a scenario, no warm-up, small store (CI)
          --no-publish         reuse bench/.server and bench/.bare      --out FILE      write the JSON report
        """;

    private static async Task<int> Main(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var options = RunOptions.Parse(args);
        var root = FindRepositoryRoot();
        var serverDirectory = Path.Combine(root, "bench", ".server");
        var bareDirectory = Path.Combine(root, "bench", ".bare");
        if (!options.NoPublish)
        {
            Publish(Path.Combine(root, "src", "TokenServer"), serverDirectory);
            Publish(Path.Combine(root, "bench", "TokenServer.BareJwt"), bareDirectory);
        }

        var storeDirectory = Directory.CreateTempSubdirectory("tokenserver-bench-");
        var groups = new List<ServerGroup>();
        try
        {
            return await RunAsync(options, serverDirectory, bareDirectory, storeDirectory.FullName, groups);
        }
        finally
        {
            foreach (var group in groups)
            {
                group.Dispose();
            }

            storeDirectory.Delete(recursive: true);
        }
    }

    private static async Task<int> RunAsync(RunOptions options, string serverDirectory, string bareDirectory, string storeDirectory, List<ServerGroup> groups)
    {
        var provider = options.ServerSettings.GetValueOrDefault("Database__Provider", "Sqlite");
        async Task<ServerGroup> StartGroupAsync(string label, Func<int, ServerProcess> start, int instances)
        {
            var group = new ServerGroup(label);
            groups.Add(group);
            await group.StartAsync(start, instances);
            return group;
        }

        // Instance i of N runs on its share of the server's cores (CpuList).
        Task<ServerGroup> StartAsync(string label) => StartGroupAsync(label, i => StartServer(serverDirectory, storeDirectory, options, CpuList(i, options.Instances)), options.Instances);

        // Setup on a new store, then a restart on the now existing store: the scenarios run
        // against the restarted instances, which start as a production restart would.
        var newStore = await StartAsync("new store");
        var setup = await Setup.CreateAsync(newStore.Client, options);
        newStore.Stop();
        var existingStore = await StartAsync("existing store");

        var bcrypt = PasswordBound.VerifiesPerSecond(options.WorkFactor, TimeSpan.FromSeconds(options.Smoke ? 0 : 5));
        Console.WriteLine($"BCrypt (enhanced, SHA-384) verify at work factor {options.WorkFactor}: {bcrypt:F1}/s on one load-generator core");
        var results = new List<ScenarioResult>();
        foreach (var scenario in Scenarios.All(setup, options, existingStore.Instances).Where(s => options.Selects(s.Name)))
        {
            var result = await scenario.RunAsync(existingStore.Client, options, existingStore.CpuTime);
            results.Add(result);
            Console.WriteLine(result.Describe());
        }

        existingStore.Stop();
        var report = new JsonObject
        {
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            ["server_cpus"] = newStore.CpuDescription,
            ["instances"] = options.Instances,
            ["store"] = provider,
            ["seconds_per_scenario"] = options.Seconds,
            ["concurrency"] = options.Concurrency,
            ["work_factor"] = options.WorkFactor,
            ["warm_up_seconds_per_scenario"] = options.WarmUpSeconds,
            // The login target's bound: BCrypt verifies per second on one core like the server's.
            ["bcrypt_verifies_per_second_per_core"] = Math.Round(bcrypt, 2),
            // From process start to the first 200 from GET /api/v1/health; the slowest instance.
            ["first_request_new_store_ms"] = Math.Round(newStore.FirstRequest.TotalMilliseconds),
            ["first_request_existing_store_ms"] = Math.Round(existingStore.FirstRequest.TotalMilliseconds),
            // VmHWM of the largest instance: the first process (start on a new store, accounts,
            // samples seeding), and the restarted one that ran the scenarios.
            ["peak_memory_mb_new_store_setup"] = Math.Round(newStore.PeakMemoryMegabytes(), 1),
            ["peak_memory_mb_existing_store_scenarios"] = Math.Round(existingStore.PeakMemoryMegabytes(), 1),
            ["resident_mb_after_scenarios"] = existingStore.ResidentMegabytes(),
        };

        if (options.CompareOneInstance)
        {
            report["one_instance_comparison"] = await CompareOneInstanceAsync(setup, options, results, label => StartGroupAsync(
                label, _ => StartServer(serverDirectory, storeDirectory, options, CpuList(0, options.Instances)), 1));
        }

        if (options.Selects(Baseline.Prefix + "protected-get-me"))
        {
            var (bareResults, bareReport) = await Baseline.RunAsync(bareDirectory, storeDirectory, options, (label, start) => StartGroupAsync(label, _ => start(), 1));
            results.AddRange(bareResults);
            bareReport["tokenserver_peak_over_bare_peak"] = Math.Round(existingStore.PeakMemoryMegabytes() / bareReport["peak_memory_mb"]!.GetValue<double>(), 2);
            report["bare_jwt_baseline"] = bareReport;
        }

        if (options.LargeStore)
        {
            if (provider != "Sqlite")
            {
                Console.WriteLine($"large store: skipped, it writes the SQLite store file directly and Database__Provider is {provider}");
                report["large_store"] = new JsonObject { ["skipped"] = $"works only with the SQLite store, not {provider}" };
            }
            else
            {
                var (largeResults, largeReport, firstRequest) = await RunLargeStoreAsync(setup, options, results, Path.Combine(storeDirectory, "bench.db"), StartAsync);
                results.AddRange(largeResults);
                report["first_request_large_store_ms"] = Math.Round(firstRequest.TotalMilliseconds);
                report["large_store"] = largeReport;
            }
        }

        report["scenarios"] = new JsonArray(results.Select(r => (JsonNode)r.ToJson()).ToArray());
        Console.WriteLine(
            $"first answer after process start: new store {report["first_request_new_store_ms"]} ms, existing store {report["first_request_existing_store_ms"]} ms"
            + (report["first_request_large_store_ms"] is { } large ? $", large store {large} ms" : string.Empty));
        Console.WriteLine(
            $"server peak memory (VmHWM, largest instance): setup on the new store {newStore.PeakMemoryMegabytes():F1} MB, scenarios on the existing store {existingStore.PeakMemoryMegabytes():F1} MB"
            + (report["large_store"]?["peak_memory_mb_large_store_scenarios"] is { } largeMemory ? $", large-store scenarios {largeMemory} MB" : string.Empty)
            + $"; resident after the scenarios {report["resident_mb_after_scenarios"]!.ToJsonString()}");
        if (options.Output is { } output)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {output}");
        }

        // A scenario fails if it got no answer below 500 at all, in its window or after it (on a
        // loaded machine a 2-second smoke window can close before the first queued login
        // answers), or any 5xx.
        var failed = results.Where(r => r.ServerErrors > 0 || r.Statuses.Where(s => s.Key < 500).Sum(s => s.Value) == 0).ToList();
        foreach (var f in failed)
        {
            Console.Error.WriteLine($"FAILED: {f.Name} completed {f.Completed} requests in its window, answered {f.Statuses.Where(s => s.Key < 500).Sum(s => s.Value)} below 500, with {f.ServerErrors} 5xx");
        }

        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Stops the servers, fills the store, restarts them and runs the target's scenarios again.
    /// Each is compared with the same scenario on the (near-)empty store run just before.
    /// </summary>
    private static async Task<(List<ScenarioResult> Results, JsonObject Report, TimeSpan FirstRequest)> RunLargeStoreAsync(
        Setup setup, RunOptions options, List<ScenarioResult> emptyResults, string databasePath, Func<string, Task<ServerGroup>> start)
    {
        var counts = options.LargeStoreCounts;
        Console.WriteLine($"large store: writing {counts.Accounts} accounts, {counts.Sessions} sessions with a refresh token each and {counts.RevokedTokenIds} revoked token ids...");
        var seeded = LargeStore.Seed(databasePath, counts);
        Console.WriteLine($"large store: written in {seeded["seed_seconds"]!["total"]} s {seeded["seed_seconds"]!.ToJsonString()}");

        // Each scenario warms the restarted server up before it is measured, as on the empty store.
        var server = await start("large store");
        var (results, ratios) = await RerunAsync(
            setup, options, server, LargeStore.ScenarioNames, LargeStore.Suffix, emptyResults, ("empty_store", "large_store", "ratio_large_over_empty"), (empty, large) => large / empty);
        server.Stop();
        var report = new JsonObject
        {
            ["seeded"] = seeded,
            ["peak_memory_mb_large_store_scenarios"] = Math.Round(server.PeakMemoryMegabytes(), 1),
            ["requests_per_second_large_over_empty"] = ratios,
        };
        return (results, report, server.FirstRequest);
    }

    /// <summary>The scenarios the one-instance comparison reruns (docs/performance.md, "Scaling").</summary>
    private static readonly IReadOnlyList<string> ScalingScenarioNames = ["protected-get-me", "refresh-rotation", "client-credentials"];

    /// <summary>
    /// With N instances: starts one instance on the same store, on the cores one of the N had
    /// (CpuList), reruns the scaling scenarios on it and reports each N-instance rate over it.
    /// </summary>
    private static async Task<JsonObject> CompareOneInstanceAsync(Setup setup, RunOptions options, List<ScenarioResult> results, Func<string, Task<ServerGroup>> startOne)
    {
        if (options.Instances < 2)
        {
            Console.WriteLine("one-instance comparison: skipped, it compares --instances 2 or more with one");
            return new JsonObject { ["skipped"] = "needs --instances 2 or more" };
        }

        // With fewer server cores than instances (CpuList), the instances share them: the ratio
        // then measures contention, not scaling.
        var shared = Math.Max(1, Environment.ProcessorCount / 2) < options.Instances;
        if (shared)
        {
            Console.WriteLine($"one-instance comparison: the {options.Instances} instances shared cores {CpuList(0, options.Instances)}; the ratio measures contention, not scaling (docs/performance.md)");
        }

        var one = await startOne("one instance");
        var (oneResults, ratios) = await RerunAsync(
            setup, options, one, ScalingScenarioNames, "-1-instance", results, ($"{options.Instances}_instances", "one_instance", "ratio_instances_over_one"), (instances, single) => instances / single);
        one.Stop();
        results.AddRange(oneResults);

        return new JsonObject
        {
            ["instances"] = options.Instances,
            ["instances_shared_cores"] = shared,
            ["one_instance_cpus"] = one.CpuDescription,
            ["requests_per_second_instances_over_one"] = ratios,
        };
    }

    /// <summary>
    /// Runs the selected scenarios among <paramref name="names"/> on <paramref name="server"/>, named
    /// with <paramref name="suffix"/>, and compares each with the same scenario in <paramref name="reference"/>.
    /// </summary>
    private static async Task<(List<ScenarioResult> Results, JsonObject Ratios)> RerunAsync(
        Setup setup, RunOptions options, ServerGroup server, IReadOnlyList<string> names, string suffix, List<ScenarioResult> reference, (string Reference, string Rerun, string Ratio) keys,
        Func<double, double, double> ratio)
    {
        var results = new List<ScenarioResult>();
        var ratios = new JsonObject();
        foreach (var scenario in Scenarios.All(setup, options, server.Instances).Where(s => names.Contains(s.Name) && options.Selects(s.Name)))
        {
            var result = await scenario.RunAsync(server.Client, options, server.CpuTime);
            result = result with { Name = scenario.Name + suffix };
            results.Add(result);
            Console.WriteLine(result.Describe());
            if (reference.FirstOrDefault(r => r.Name == scenario.Name) is { } before)
            {
                ratios[scenario.Name] = new JsonObject
                {
                    [keys.Reference + "_requests_per_second"] = Math.Round(before.RequestsPerSecond, 1),
                    [keys.Rerun + "_requests_per_second"] = Math.Round(result.RequestsPerSecond, 1),
                    [keys.Ratio] = ratio(before.RequestsPerSecond, result.RequestsPerSecond) is var r && double.IsFinite(r) ? Math.Round(r, 3) : null,
                };
                Console.WriteLine($"{suffix.TrimStart('-')}: {scenario.Name} {result.RequestsPerSecond:F0} req/s against {before.RequestsPerSecond:F0} ({keys.Reference.Replace('_', ' ')}), {keys.Ratio} {ratios[scenario.Name]![keys.Ratio]}");
            }
        }

        return (results, ratios);
    }

    private static ServerProcess StartServer(string directory, string store, RunOptions options, string? cpus)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__TokenServer"] = $"Data Source={Path.Combine(store, "bench.db")}",
            ["TokenServer__Passwords__WorkFactor"] = options.WorkFactor.ToString(CultureInfo.InvariantCulture),
            ["TokenServer__Bootstrap__AdminEmail"] = Setup.AdminEmail,
            ["TokenServer__Bootstrap__AdminPassword"] = Password,
            // One machine generates all the load from one address: the per-address login limits
            // would measure themselves, not the server.
            ["TokenServer__RateLimits__PermitLimit"] = "100000000",
            ["TokenServer__RateLimits__Enabled"] = "false",
        };
        foreach (var (key, value) in options.ServerSettings)
        {
            environment[key] = value;
        }

        return StartProcess(Path.Combine(directory, "TokenServer.dll"), store, environment, cpus);
    }

    /// <summary>
    /// The cores (a taskset list) of instance <paramref name="index"/> of <paramref name="instances"/>:
    /// the servers get the first half of the cores and the load generator the rest; each instance
    /// gets its own equal share of that half when it has at least one core per instance, and
    /// otherwise all instances share the whole half (on 2 cores: both on core 0).
    /// </summary>
    internal static string CpuList(int index, int instances)
    {
        var half = Math.Max(1, Environment.ProcessorCount / 2);
        var share = half / instances;
        return share < 1 ? $"0-{half - 1}" : $"{index * share}-{(index * share) + share - 1}";
    }

    /// <summary>
    /// Starts a published app on a free loopback port, pinned to <paramref name="cpus"/> (by default
    /// the first half of the cores; this process moves to the rest), in Production with
    /// warnings-only logging.
    /// </summary>
    internal static ServerProcess StartProcess(string dll, string workingDirectory, IReadOnlyDictionary<string, string> environment, string? cpus = null)
    {
        var port = FreePort();
        var half = Environment.ProcessorCount / 2;
        cpus ??= CpuList(0, 1);
        // Pinned from its first instruction (taskset), the server sees only its own cores, so
        // everything sized by core count (the hashing gate, the GC) is sized as in production.
        var pin = half >= 1 && OperatingSystem.IsLinux() && File.Exists("/usr/bin/taskset");
        var start = new ProcessStartInfo(pin ? "/usr/bin/taskset" : "dotnet", pin ? ["-c", cpus, "dotnet", dll] : [dll])
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment)
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

        var description = "shared";
        if (pin && OperatingSystem.IsLinux())
        {
            // Servers on the first half of the cores, load generator on the rest.
            var serverMask = (1L << half) - 1;
            Process.GetCurrentProcess().ProcessorAffinity = (nint)(((1L << Environment.ProcessorCount) - 1) & ~serverMask);
            description = $"server cores {cpus}, load generator cores {half}-{Environment.ProcessorCount - 1}";
        }

        return new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"), started, description);
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

    /// <summary>As the README's deployment does: Release, framework-dependent, ReadyToRun for this platform.</summary>
    private static void Publish(string project, string output) =>
        Run("dotnet", ["publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-o", output, "--nologo", "-v", "q"]);

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
    public bool Smoke { get; init; }

    /// <summary>Seconds each scenario runs unmeasured before its measured run.</summary>
    public int WarmUpSeconds { get; init; } = 3;

    public bool LargeStore { get; init; }

    /// <summary>With --instances N ≥ 2: rerun the scaling scenarios on one instance and report N over one.</summary>
    public bool CompareOneInstance { get; init; }

    public int? LargeAccounts { get; init; }

    public int? LargeSessions { get; init; }

    public int? LargeRevoked { get; init; }

    public LargeStoreCounts LargeStoreCounts => new(
        LargeAccounts ?? (Smoke ? 1_000 : 100_000),
        LargeSessions ?? (Smoke ? 1_000 : 100_000),
        LargeRevoked ?? (Smoke ? 10_000 : 1_000_000));

    /// <summary>Whether --scenario (if given) selects a scenario, under its own name or with the large-store suffix.</summary>
    public bool Selects(string name) =>
        Scenarios.Count == 0 || Scenarios.Contains(name) || Scenarios.Contains(name + LoadRunner.LargeStore.Suffix);

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
                "--smoke" => o with { Seconds = 2, Concurrency = 8, Samples = 500, Smoke = true, WarmUpSeconds = 0 },
                "--warm-up" => o with { WarmUpSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--out" => o with { Output = args[++i] },
                "--scenario" => Add(o, args[++i]),
                "--set" => Set(o, args[++i]),
                "--large-store" => o with { LargeStore = true },
                "--compare-one-instance" => o with { CompareOneInstance = true },
                "--large-accounts" => o with { LargeAccounts = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--large-sessions" => o with { LargeSessions = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--large-revoked" => o with { LargeRevoked = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. Run with --help for the usage."),
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
/// The instances started together on one store, and a client that sends each request to the
/// next of them. A restart is a new group, so a new client: nothing can reach a stopped
/// instance, or reuse a pooled connection to one.
/// </summary>
internal sealed class ServerGroup(string label) : IDisposable
{
    private readonly List<ServerProcess> servers = [];
    private HttpClient? client;

    public HttpClient Client => client ?? throw new InvalidOperationException($"The {label} servers have not answered yet.");

    /// <summary>From process start to the first 200 from GET /api/v1/health, for the slowest instance.</summary>
    public TimeSpan FirstRequest { get; private set; }

    /// <summary>Where each instance runs, e.g. "server cores 0-0, load generator cores 1-1" once per distinct placement.</summary>
    public string CpuDescription => servers.Count == 0 ? "none" : string.Join("; ", servers.Select(s => s.CpuDescription).Distinct());

    /// <summary>Each instance's address, for scenarios that address one instance at a time.</summary>
    public IReadOnlyList<Uri> Instances => servers.Select(s => s.BaseAddress).ToList();

    /// <summary>Starts all instances at once, then waits for each to answer.</summary>
    public async Task StartAsync(Func<int, ServerProcess> start, int instances)
    {
        for (var i = 0; i < instances; i++)
        {
            servers.Add(start(i));
        }

        foreach (var server in servers)
        {
            using var direct = new HttpClient { BaseAddress = server.BaseAddress };
            var answered = await WaitForHealthAsync(direct, server.Started);
            FirstRequest = answered > FirstRequest ? answered : FirstRequest;
            Console.WriteLine($"{label}: server pid {server.Process.Id} on {server.BaseAddress}, first answer {answered.TotalMilliseconds:F0} ms after start");
        }

        client = new HttpClient(new RoundRobinHandler(servers.Select(s => s.BaseAddress).ToList()))
        {
            BaseAddress = servers[0].BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>CPU time all instances have used so far (user and system, all their threads).</summary>
    public TimeSpan CpuTime() => servers.Aggregate(TimeSpan.Zero, (total, s) => total + s.CpuTime());

    /// <summary>The largest instance's VmHWM; kept after the instances stop.</summary>
    public double PeakMemoryMegabytes() => servers.Count == 0 ? 0 : servers.Max(s => s.PeakMemoryMegabytes());

    /// <summary>The first instance's resident memory by kind, at its last reading.</summary>
    public JsonObject ResidentMegabytes() => servers.Count == 0 ? [] : servers[0].ResidentMegabytes();

    public void Stop()
    {
        client?.Dispose();
        foreach (var server in servers)
        {
            server.Stop();
        }
    }

    public void Dispose()
    {
        client?.Dispose();
        foreach (var server in servers)
        {
            server.Dispose();
        }
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

            await Task.Delay(10);
        }

        throw new InvalidOperationException("The server did not answer /api/v1/health within 60 s.");
    }
}

/// <summary>
/// Sends each request to the next server instance in turn, as a load balancer would: with two
/// instances, consecutive refreshes of one chain land on different instances. Redirects are
/// answers to measure, not to follow, and no cookie is kept: a scenario that acts as a browser
/// (CodeFlow.cs) keeps each worker's cookies itself.
/// </summary>
internal sealed class RoundRobinHandler(IReadOnlyList<Uri> servers)
    : DelegatingHandler(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10), AllowAutoRedirect = false, UseCookies = false })
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
    private TimeSpan cpu;
    private double peakMegabytes;
    private JsonObject resident = [];
    private bool stopped;

    public Process Process => process;

    public Uri BaseAddress => baseAddress;

    public Stopwatch Started => started;

    public string CpuDescription => cpuDescription;

    /// <summary>The CPU time the server has used so far; the last reading once it has exited.</summary>
    public TimeSpan CpuTime()
    {
        if (!stopped && !process.HasExited)
        {
            process.Refresh();
            try
            {
                cpu = process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the reading: keep the last one.
            }
        }

        return cpu;
    }

    /// <summary>The kernel's high-water mark of the server's resident memory (VmHWM); the last reading once stopped.</summary>
    public double PeakMemoryMegabytes()
    {
        if (stopped)
        {
            // The process id may belong to another process by now.
            return peakMegabytes;
        }

        try
        {
            var now = new JsonObject();
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                var fields = line.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries);
                var megabytes = fields.Length >= 2 && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var kb) ? Math.Round(kb / 1024.0, 1) : 0;
                switch (fields.FirstOrDefault())
                {
                    case "VmHWM":
                        peakMegabytes = megabytes;
                        break;
                    case "RssAnon" or "RssFile" or "RssShmem":
                        now[fields[0]] = megabytes;
                        break;
                }
            }

            resident = now;
        }
        catch (IOException)
        {
            // Not Linux, or the process is gone: keep the last reading.
        }

        return peakMegabytes;
    }

    /// <summary>
    /// What the resident memory was made of at the last reading (the kernel's RssAnon: heaps and
    /// stacks; RssFile: mapped assemblies and native libraries; RssShmem: JIT-compiled code).
    /// </summary>
    public JsonObject ResidentMegabytes() => (JsonObject)resident.DeepClone();

    /// <summary>
    /// Stops the server as a service manager would (SIGTERM, so the host shuts down and SQLite
    /// closes its files), and kills it only if it has not exited 15 s later.
    /// </summary>
    public void Stop()
    {
        if (stopped)
        {
            return;
        }

        PeakMemoryMegabytes();
        stopped = true;
        if (process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            term?.WaitForExit();
            if (process.WaitForExit(15_000))
            {
                return;
            }

            Console.Error.WriteLine($"server pid {process.Id} did not stop within 15 s of SIGTERM; killing it");
        }

        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }
}

internal sealed record ScenarioResult(string Name, int Completed, double Seconds, double P50, double P99, IReadOnlyDictionary<int, int> Statuses, int ServerErrors, JsonObject? Extra)
{
    public double RequestsPerSecond => Seconds > 0 ? Completed / Seconds : 0;

    /// <summary>CPU time the server used during the measured window (all its threads and cores).</summary>
    public double ServerCpuSeconds { get; init; }

    /// <summary>
    /// Server CPU per answer counted: what a request costs, whatever else the machine does to the
    /// rate. In the flood scenario it includes the flood's logins.
    /// </summary>
    public double ServerCpuMsPerRequest => Completed == 0 ? 0 : ServerCpuSeconds * 1000 / Completed;

    /// <summary>How many of the server's cores were busy on average in the window (1.0: one core saturated).</summary>
    public double ServerCoresBusy => Seconds == 0 ? 0 : ServerCpuSeconds / Seconds;

    public string Describe() =>
        $"{Name,-28} {RequestsPerSecond,10:F0} req/s   p50 {P50,7:F2} ms   p99 {P99,7:F2} ms   server {ServerCpuMsPerRequest,6:F3} ms CPU/req, {ServerCoresBusy:F2} cores busy   statuses {string.Join(' ', Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}:{s.Value}"))}"
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
            ["server_cpu_ms_per_request"] = Math.Round(ServerCpuMsPerRequest, 4),
            ["server_cores_busy"] = Math.Round(ServerCoresBusy, 3),
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

/// <summary>How many passwords one core verifies per second, the way the server does (BCrypt.Net-Next enhanced mode, SHA-384).</summary>
internal static class PasswordBound
{
    public static double VerifiesPerSecond(int workFactor, TimeSpan duration)
    {
        var hash = BCrypt.Net.BCrypt.EnhancedHashPassword(Program.PasswordFor, BCrypt.Net.HashType.SHA384, workFactor);
        BCrypt.Net.BCrypt.EnhancedVerify(Program.PasswordFor, hash, BCrypt.Net.HashType.SHA384);
        var clock = Stopwatch.StartNew();
        var count = 0;
        do
        {
            BCrypt.Net.BCrypt.EnhancedVerify(Program.PasswordFor, hash, BCrypt.Net.HashType.SHA384);
            count++;
        }
        while (clock.Elapsed < duration);

        return count / clock.Elapsed.TotalSeconds;
    }
}
