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

    /// <summary>Configuration both instances get on top of <see cref="Common"/>.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    /// <summary>As an operator runs them: Production, one issuer, one bootstrap admin, keys published and reloaded quickly.</summary>
    private static readonly Dictionary<string, string> Common = new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["TokenServer__Issuer"] = "http://tokenserver.multi.test",
        ["TokenServer__Bootstrap__AdminEmail"] = AdminEmail,
        ["TokenServer__Bootstrap__AdminPassword"] = AdminPassword,
        ["TokenServer__Keys__PublishLead"] = "00:00:03",
        ["TokenServer__Keys__ReloadInterval"] = "00:00:01",
    };

    public HttpClient B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestStore.SkipReason is not null)
        {
            return;
        }

        store = TestStore.Create();
        // Both start at once on an empty database: migration and the first signing key must not race.
        var settings = new Dictionary<string, string>(Common);
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        var starting = new[] { ServerProcess.StartAsync(store, settings), ServerProcess.StartAsync(store, settings) };
        servers.AddRange(await Task.WhenAll(starting));
        A = servers[0].Client;
        B = servers[1].Client;
    }

    public async Task DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }

        store?.Dispose();
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
