using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>
/// TokenServer on a real Kestrel port (a browser cannot reach WebApplicationFactory's in-memory
/// server), its issuer set to that address so discovery and tokens name it, and a headless
/// Chromium. Everything binds 127.0.0.1 on a port free at run time.
/// </summary>
public sealed class RealServer : IAsyncDisposable
{
    private RealServer(TokenServerFactory factory, Uri address, IPlaywright playwright, IBrowser browser)
    {
        Factory = factory;
        Address = address;
        Playwright = playwright;
        Browser = browser;
        Api = new HttpClient { BaseAddress = address };
    }

    public TokenServerFactory Factory { get; }

    public Uri Address { get; }

    public IPlaywright Playwright { get; }

    public IBrowser Browser { get; }

    public HttpClient Api { get; }

    public static async Task<RealServer> StartAsync(Action<TokenServerFactory>? configure = null)
    {
        var (factory, address) = StartKestrel(configure);
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFactAttribute.ChromiumPath, Headless = true });
        return new RealServer(factory, address, playwright, browser);
    }

    /// <summary>TokenServer alone on a real Kestrel port, for clients that are not a browser (another process, another server).</summary>
    public static (TokenServerFactory Factory, Uri Address) StartKestrel(Action<TokenServerFactory>? configure = null)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var factory = new TokenServerFactory();
        factory.Settings["TokenServer:Issuer"] = address.ToString().TrimEnd('/');
        configure?.Invoke(factory);
        factory.UseKestrel(port);
        factory.StartServer();
        return (factory, address);
    }

    /// <summary>A port nothing listens on now (the OS picks it); the server binds it right after.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        Api.Dispose();
        await Factory.DisposeAsync();
    }
}
