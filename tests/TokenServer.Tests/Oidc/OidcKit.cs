using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Oidc;

/// <summary>A PKCE pair (RFC 7636 §4.1-4.2).</summary>
public sealed record Pkce(string Verifier, string Challenge)
{
    public static Pkce Create()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }
}

/// <summary>Drives the OpenID Connect provider over HTTP as a browser (cookies, no automatic redirects) and as a client.</summary>
public static partial class OidcKit
{
    public const string RedirectUri = "https://app.example.org/callback";
    public const string PostLogoutUri = "https://app.example.org/signed-out";

    public static HttpClient Browser(this TokenServerFactory factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri("https://localhost") });

    public static async Task<JsonElement> RegisterClientAsync(this HttpClient api, string adminToken, string clientId, string type = "confidential", bool firstParty = true, string? backchannel = null, IEnumerable<string>? scopes = null, IEnumerable<string>? redirectUris = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["client_id"] = clientId,
            ["name"] = $"App {clientId}",
            ["type"] = type,
            ["redirect_uris"] = redirectUris ?? [RedirectUri],
            ["post_logout_redirect_uris"] = new[] { PostLogoutUri },
            ["grant_types"] = new[] { "authorization_code", "refresh_token" },
            ["scopes"] = scopes ?? ["openid", "profile", "email", "offline_access", "read"],
            ["first_party"] = firstParty,
        };
        if (backchannel is not null)
        {
            body["backchannel_logout_uri"] = backchannel;
        }

        using var response = await api.PostJsonWithTokenAsync("/api/v1/admin/clients", body, adminToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static string AuthorizeUrl(string clientId, Pkce pkce, string scope = "openid profile email offline_access", string? state = "state-123", string? nonce = "nonce-456", string? prompt = null, string redirectUri = RedirectUri)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["code_challenge"] = pkce.Challenge,
            ["code_challenge_method"] = "S256",
        };
        if (state is not null)
        {
            query["state"] = state;
        }

        if (nonce is not null)
        {
            query["nonce"] = nonce;
        }

        if (prompt is not null)
        {
            query["prompt"] = prompt;
        }

        return QueryHelpers.AddQueryString("/connect/authorize", query);
    }

    /// <summary>Signs in through the sign-in page, as a person would.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(this HttpClient browser, string login, string password = Api.Password, string returnUrl = "/account")
    {
        var page = await browser.GetStringAsync(QueryHelpers.AddQueryString("/signin", "returnUrl", returnUrl));
        return await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken(page),
            ["ReturnUrl"] = returnUrl,
            ["Login"] = login,
            ["Password"] = password,
        }));
    }

    public static string AntiforgeryToken(string html) => AntiforgeryPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("No anti-forgery token on the page.");

    /// <summary>Follows redirects inside the server until one leaves it (to a client) and returns that URL.</summary>
    public static async Task<Uri> FollowToClientAsync(this HttpClient browser, string path)
    {
        var next = new Uri(browser.BaseAddress!, path);
        for (var i = 0; i < 10; i++)
        {
            using var response = await browser.GetAsync(next);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            next = new Uri(next, response.Headers.Location!);
            if (next.Host != browser.BaseAddress!.Host)
            {
                return next;
            }
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    /// <summary>
    /// A browser on a real server: follows <paramref name="authorizationUrl"/> to the sign-in page,
    /// signs in there, and follows the redirects back to the client; returns the client's callback URL.
    /// </summary>
    public static async Task<Uri> SignInThroughAsync(Uri server, Uri authorizationUrl, string login)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var browser = new HttpClient(handler) { BaseAddress = server };
        using var start = await browser.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var returnUrl = Query(new Uri(server, start.Headers.Location!))["returnUrl"];
        using var signIn = await browser.SignInAsync(login, returnUrl: returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return await browser.FollowToClientAsync(signIn.Headers.Location!.OriginalString);
    }

    public static Dictionary<string, string> Query(Uri uri) =>
        QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    public static async Task<HttpResponseMessage> RedeemAsync(this HttpClient api, string clientId, string? secret, string code, string verifier, string redirectUri = RedirectUri)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = code,
            ["code_verifier"] = verifier,
            ["redirect_uri"] = redirectUri,
        };
        if (secret is not null)
        {
            form["client_secret"] = secret;
        }

        return await api.PostFormAsync("/api/v1/auth/token", form);
    }

    public static JsonElement Payload(string jwt)
    {
        var part = jwt.Split('.')[1];
        return JsonDocument.Parse(Base64UrlEncoder.Decode(part)).RootElement.Clone();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryPattern();
}
