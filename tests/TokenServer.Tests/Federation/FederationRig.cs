using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Browser;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Federation;

/// <summary>
/// Two real TokenServers on Kestrel: the upstream (an OpenID provider with a confidential client
/// registered for the downstream's callback) at http://localhost:port, and the downstream (the
/// server under test, with the upstream configured as provider "upstream") at
/// http://127.0.0.1:port. Different host names keep their cookies apart in one browser.
/// </summary>
public sealed partial class FederationRig : IAsyncDisposable
{
    public const string ProviderName = "upstream";
    public const string DisplayName = "Example University";
    public const string ClientId = "tokenserver-downstream";

    private FederationRig(TokenServerFactory upstream, Uri upstreamAddress, TokenServerFactory downstream, Uri downstreamAddress)
    {
        Upstream = upstream;
        UpstreamAddress = upstreamAddress;
        Downstream = downstream;
        DownstreamAddress = downstreamAddress;
        UpstreamApi = new HttpClient { BaseAddress = upstreamAddress };
        DownstreamApi = new HttpClient { BaseAddress = downstreamAddress };
    }

    public TokenServerFactory Upstream { get; }

    public Uri UpstreamAddress { get; }

    public TokenServerFactory Downstream { get; }

    public Uri DownstreamAddress { get; }

    public HttpClient UpstreamApi { get; }

    public HttpClient DownstreamApi { get; }

    public string UpstreamIssuer => UpstreamAddress.ToString().TrimEnd('/');

    public string DownstreamIssuer => DownstreamAddress.ToString().TrimEnd('/');

    /// <param name="downstreamSettings">More settings of the server under test (claim mappings, say).</param>
    public static async Task<FederationRig> StartAsync(Dictionary<string, string?>? downstreamSettings = null)
    {
        var upstreamPort = RealServer.FreePort();
        var upstreamAddress = new Uri($"http://localhost:{upstreamPort}");
        var upstream = new TokenServerFactory();
        upstream.Settings["TokenServer:Issuer"] = upstreamAddress.ToString().TrimEnd('/');
        upstream.UseKestrel(upstreamPort);
        upstream.StartServer();

        var downstreamPort = RealServer.FreePort();
        var downstreamAddress = new Uri($"http://127.0.0.1:{downstreamPort}");
        using var upstreamApi = new HttpClient { BaseAddress = upstreamAddress };
        var admin = await upstreamApi.LoginAdminAsync();
        using var registered = await upstreamApi.PostJsonWithTokenAsync("/api/v1/admin/clients", new Dictionary<string, object?>
        {
            ["client_id"] = ClientId,
            ["name"] = "Downstream TokenServer",
            ["type"] = "confidential",
            ["redirect_uris"] = new[] { $"{downstreamAddress.ToString().TrimEnd('/')}/signin/{ProviderName}/callback" },
            ["scopes"] = new[] { "openid", "profile", "email" },
            ["first_party"] = true,
        }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var secret = (await registered.ReadJsonAsync()).GetProperty("client_secret").GetString();

        var downstream = StartDownstream(downstreamAddress, ProviderName, upstreamAddress.ToString().TrimEnd('/'), secret!, DisplayName, downstreamSettings);
        return new FederationRig(upstream, upstreamAddress, downstream, downstreamAddress);
    }

    /// <summary>The server under test on Kestrel at <paramref name="address"/> (port from <see cref="RealServer.FreePort"/>), with one upstream provider.</summary>
    internal static TokenServerFactory StartDownstream(Uri address, string providerName, string authority, string secret, string displayName, Dictionary<string, string?>? settings = null)
    {
        var downstream = new TokenServerFactory();
        downstream.Settings["TokenServer:Issuer"] = address.ToString().TrimEnd('/');
        var provider = $"TokenServer:ExternalProviders:{providerName}";
        downstream.Settings[$"{provider}:Authority"] = authority;
        downstream.Settings[$"{provider}:ClientId"] = ClientId;
        downstream.Settings[$"{provider}:ClientSecret"] = secret;
        downstream.Settings[$"{provider}:DisplayName"] = displayName;
        downstream.Settings[$"{provider}:RequireHttpsMetadata"] = "false";
        foreach (var (key, value) in settings ?? [])
        {
            downstream.Settings[key] = value;
        }

        downstream.UseKestrel(address.Port);
        downstream.StartServer();
        return downstream;
    }

    /// <summary>Arranges the upstream's world directly in its store (the upstream is a fixture, not the server under test).</summary>
    public async Task ChangeUpstreamAccountAsync(string email, Action<Account> change)
    {
        using var scope = Upstream.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        var normalized = email.ToUpperInvariant();
        var account = await db.Accounts.FirstAsync(a => a.NormalizedEmail == normalized);
        change(account);
        await db.SaveChangesAsync();
    }

    /// <summary>Registers a public first-party client at the downstream, for a browser's code flow that ends in tokens.</summary>
    public Task RegisterDownstreamClientAsync(string clientId) => RegisterAppAsync(DownstreamApi, clientId);

    internal static async Task RegisterAppAsync(HttpClient downstreamApi, string clientId)
    {
        var admin = await downstreamApi.LoginAdminAsync();
        using var response = await downstreamApi.PostJsonWithTokenAsync("/api/v1/admin/clients", new Dictionary<string, object?>
        {
            ["client_id"] = clientId,
            ["name"] = "Notebook",
            ["type"] = "public",
            ["redirect_uris"] = new[] { AppRedirectUri },
            ["scopes"] = new[] { "openid", "profile", "email" },
            ["first_party"] = true,
        }, admin.AccessToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>Never requested: the user agent stops at a redirect to it and reads the code.</summary>
    public const string AppRedirectUri = "http://127.0.0.1:9/notebook/callback";

    public async ValueTask DisposeAsync()
    {
        UpstreamApi.Dispose();
        DownstreamApi.Dispose();
        await Downstream.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// A browser without JavaScript, over HTTP: a cookie jar, redirects followed one by one (so a
/// test can stop at or tamper with any of them), and forms posted with their anti-forgery token.
/// </summary>
public sealed partial class UserAgent : IDisposable
{
    private readonly HttpClient http;

    public UserAgent()
    {
        http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false, UseCookies = true });
    }

    public CookieContainer Cookies { get; } = new();

    /// <summary>The last page's address and text.</summary>
    public Uri Url { get; private set; } = new("about:blank");

    public string Html { get; private set; } = string.Empty;

    public HttpStatusCode Status { get; private set; }

    /// <summary>GETs <paramref name="url"/> and follows redirects until a page, or until a redirect for which <paramref name="stopAt"/> is true (returned, not requested).</summary>
    public async Task<Uri?> GoAsync(Uri url, Func<Uri, bool>? stopAt = null)
    {
        using var response = await http.GetAsync(url);
        return await FollowAsync(url, response, stopAt);
    }

    /// <summary>Posts the page's form whose action is <paramref name="action"/> (null: the page itself) with its anti-forgery token and hidden fields plus <paramref name="fields"/>.</summary>
    public async Task<Uri?> SubmitAsync(string? action, Dictionary<string, string> fields, Func<Uri, bool>? stopAt = null)
    {
        var forms = Forms().Where(f => f.Action == action).ToList();
        var form = forms.Count > 0 ? forms[0] : throw new InvalidOperationException($"No form with action '{action}' on {Url}:\n{Html}");
        var values = new Dictionary<string, string>(form.Hidden);
        foreach (var (key, value) in fields)
        {
            values[key] = value;
        }

        var target = action is null ? Url : new Uri(Url, WebUtility.HtmlDecode(action));
        using var response = await http.PostAsync(target, new FormUrlEncodedContent(values));
        return await FollowAsync(target, response, stopAt);
    }

    public Task<Uri?> ClickProviderAsync(string provider, Func<Uri, bool>? stopAt = null) => SubmitAsync($"/signin/{provider}", [], stopAt);

    private async Task<Uri?> FollowAsync(Uri url, HttpResponseMessage response, Func<Uri, bool>? stopAt)
    {
        for (var hops = 0; hops < 20; hops++)
        {
            if ((int)response.StatusCode is < 300 or >= 400)
            {
                Url = url;
                Status = response.StatusCode;
                Html = await response.Content.ReadAsStringAsync();
                return null;
            }

            var next = new Uri(url, response.Headers.Location!);
            if (stopAt?.Invoke(next) == true)
            {
                Url = url;
                Status = response.StatusCode;
                return next;
            }

            response.Dispose();
            url = next;
            response = await http.GetAsync(url);
        }

        throw new InvalidOperationException("More than 20 redirects.");
    }

    private List<(string? Action, Dictionary<string, string> Hidden)> Forms() =>
        FormPattern().Matches(Html).Select(m =>
        {
            var action = ActionPattern().Match(m.Groups["open"].Value) is { Success: true } a ? WebUtility.HtmlDecode(a.Groups[1].Value) : null;
            var hidden = HiddenPattern().Matches(m.Groups["body"].Value)
                .ToDictionary(h => WebUtility.HtmlDecode(h.Groups["name"].Value), h => WebUtility.HtmlDecode(h.Groups["value"].Value));
            return (action, hidden);
        }).ToList();

    [GeneratedRegex("<form(?<open>[^>]*)>(?<body>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("action=\"([^\"]*)\"")]
    private static partial Regex ActionPattern();

    [GeneratedRegex("<input(?=[^>]*type=\"hidden\")(?=[^>]*name=\"(?<name>[^\"]+)\")(?=[^>]*value=\"(?<value>[^\"]*)\")[^>]*>")]
    private static partial Regex HiddenPattern();

    public void Dispose() => http.Dispose();
}
