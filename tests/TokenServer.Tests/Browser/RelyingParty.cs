using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.Tests.Browser;

/// <summary>
/// A tiny web application signing its users in with TokenServer, written the way the RFCs say
/// (code flow, PKCE S256, state, nonce): one process can play several clients, each under
/// <c>/{client_id}/</c>. Its home page calls /userinfo with the access token it holds, so it shows
/// when that token stops working.
/// </summary>
public sealed class RelyingParty : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly HttpClient http;
    private readonly ConcurrentDictionary<string, (string ClientId, string Verifier, string Nonce)> pending = new();
    private readonly ConcurrentDictionary<string, SignedIn> sessions = new();
    private readonly Dictionary<string, string?> secrets = new();
    private readonly Uri server;

    private RelyingParty(WebApplication app, Uri server)
    {
        this.app = app;
        this.server = server;
        http = new HttpClient { BaseAddress = server };
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>The client and sid of each logout token received at /{client}/backchannel.</summary>
    public ConcurrentBag<(string Client, string Sid)> BackChannelLogouts { get; } = [];

    /// <summary>The payload of each ID token the app accepted, in order.</summary>
    public ConcurrentQueue<JsonElement> IdTokenClaims { get; } = new();

    public static async Task<RelyingParty> StartAsync(Uri server)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var rp = new RelyingParty(app, server);
        app.MapGet("/{client}/login", rp.Login);
        app.MapGet("/{client}/callback", rp.CallbackAsync);
        app.MapGet("/{client}/", rp.HomeAsync);
        app.MapGet("/{client}/logout", rp.Logout);
        app.MapGet("/{client}/signed-out", (string client) => Results.Content($"<h1>Signed out of {client}</h1>", "text/html"));
        app.MapPost("/{client}/backchannel", rp.BackChannelAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        rp.Address = new Uri(address);
        return rp;
    }

    public string RedirectUri(string clientId) => $"{Address.ToString().TrimEnd('/')}/{clientId}/callback";

    public string Url(string clientId, string path = "") => $"{Address.ToString().TrimEnd('/')}/{clientId}/{path}";

    public void AddClient(string clientId, string? secret) => secrets[clientId] = secret;

    private IResult Login(string client)
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var state = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var nonce = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        pending[state] = (client, verifier, nonce);
        return Results.Redirect(QueryHelpers.AddQueryString(new Uri(server, "/connect/authorize").ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = client,
            ["redirect_uri"] = RedirectUri(client),
            ["scope"] = "openid profile email offline_access",
            ["state"] = state,
            ["nonce"] = nonce,
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
        }));
    }

    private async Task<IResult> CallbackAsync(string client, HttpContext context)
    {
        var query = context.Request.Query;
        if (query["iss"] != server.ToString().TrimEnd('/') || !pending.TryRemove(query["state"].ToString(), out var request) || request.ClientId != client)
        {
            return Results.Content("<h1>Bad callback</h1>", "text/html", statusCode: 400);
        }

        if (query.ContainsKey("error"))
        {
            return Results.Content($"<h1>Sign-in failed: {WebUtility.HtmlEncode(query["error"])}</h1>", "text/html");
        }

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = query["code"].ToString(),
            ["redirect_uri"] = RedirectUri(client),
            ["code_verifier"] = request.Verifier,
            ["client_id"] = client,
        };
        if (secrets[client] is { } secret)
        {
            form["client_secret"] = secret;
        }

        using var response = await http.PostAsync("/api/v1/auth/token", new FormUrlEncodedContent(form));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        if (!response.IsSuccessStatusCode)
        {
            return Results.Content($"<h1>Token request failed: {WebUtility.HtmlEncode(json.GetProperty("error").GetString())}</h1>", "text/html");
        }

        var idToken = json.GetProperty("id_token").GetString()!;
        var claims = JsonDocument.Parse(Base64UrlEncoder.Decode(idToken.Split('.')[1])).RootElement;
        if (claims.GetProperty("nonce").GetString() != request.Nonce || claims.GetProperty("aud").GetString() != client)
        {
            return Results.Content("<h1>ID token does not match the request</h1>", "text/html", statusCode: 400);
        }

        IdTokenClaims.Enqueue(claims.Clone());
        var id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        sessions[id] = new SignedIn(json.GetProperty("access_token").GetString()!, idToken, claims.GetProperty("sid").GetString()!);
        context.Response.Cookies.Append($"rp-{client}", id, new CookieOptions { HttpOnly = true, Path = $"/{client}" });
        return Results.Redirect($"/{client}/");
    }

    private async Task<IResult> HomeAsync(string client, HttpContext context)
    {
        if (context.Request.Cookies[$"rp-{client}"] is not { } id || !sessions.TryGetValue(id, out var signedIn))
        {
            return Results.Content($"<h1>{client}: not signed in</h1><a href=\"/{client}/login\">Sign in</a>", "text/html");
        }

        if (BackChannelLogouts.Contains((client, signedIn.Sid)))
        {
            return Results.Content($"<h1>{client}: signed out by the server</h1>", "text/html");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signedIn.AccessToken);
        using var response = await http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            return Results.Content($"<h1>{client}: session ended</h1>", "text/html");
        }

        var user = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return Results.Content($"<h1>{client}: signed in as {WebUtility.HtmlEncode(user.GetProperty("email").GetString())}</h1><a href=\"/{client}/logout\">Sign out</a>", "text/html");
    }

    private IResult Logout(string client, HttpContext context)
    {
        if (context.Request.Cookies[$"rp-{client}"] is not { } id || !sessions.TryRemove(id, out var signedIn))
        {
            return Results.Redirect($"/{client}/");
        }

        return Results.Redirect(QueryHelpers.AddQueryString(new Uri(server, "/connect/logout").ToString(), new Dictionary<string, string?>
        {
            ["id_token_hint"] = signedIn.IdToken,
            ["post_logout_redirect_uri"] = Url(client, "signed-out"),
        }));
    }

    private async Task<IResult> BackChannelAsync(string client, HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var claims = JsonDocument.Parse(Base64UrlEncoder.Decode(form["logout_token"].ToString().Split('.')[1])).RootElement;
        Assert.Equal(client, claims.GetProperty("aud").GetString());
        BackChannelLogouts.Add((client, claims.GetProperty("sid").GetString()!));
        return Results.Ok();
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await app.DisposeAsync();
    }

    private sealed record SignedIn(string AccessToken, string IdToken, string Sid);
}
