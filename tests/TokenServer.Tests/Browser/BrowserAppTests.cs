using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>
/// A browser app (a public client on another origin) signs in with the code flow and PKCE by
/// running docs/oidc.md's "Browser app" snippet as it is written, in Chromium: the token and
/// userinfo calls cross origins, so TokenServer must answer them with CORS.
/// </summary>
public sealed class BrowserAppTests
{
    private const string Email = "spa-user@example.org";

    [BrowserFact]
    public async Task DocsSnippet_SignsInFromAnotherOrigin_AndReadsUserInfo()
    {
        await using var server = await RealServer.StartAsync();
        var issuer = server.Address.ToString().TrimEnd('/');

        // The app is served as localhost and TokenServer as 127.0.0.1: two origins, as in production.
        var port = RealServer.FreePort();
        var origin = $"http://localhost:{port}";
        await using var app = await ServeAsync(port, Page(issuer, origin));

        var admin = await server.Api.LoginAdminAsync();
        using (var register = await server.Api.PostJsonWithTokenAsync("/api/v1/admin/clients", new Dictionary<string, object>
        {
            ["client_id"] = "spa",
            ["name"] = "Browser app",
            ["type"] = "public",
            ["redirect_uris"] = new[] { $"{origin}/callback" },
            ["first_party"] = true,
        }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        }

        var sub = (await server.Api.RegisterAsync(Email)).GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);

        await using var context = await server.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => errors.Add(message.Text);
        page.PageError += (_, error) => errors.Add(error);

        await page.GotoAsync(origin + "/");
        await SignOnBrowserTests.SignInOnPageAsync(page, Email);
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/callback\\?"));
        var result = page.Locator("#user");
        await Assertions.Expect(result).Not.ToBeEmptyAsync(new() { Timeout = 15_000 });

        var user = JsonDocument.Parse(await result.TextContentAsync() ?? "{}").RootElement;
        Assert.True(user.TryGetProperty("sub", out var got), string.Join("\n", errors));
        Assert.Equal(sub, got.GetString());
        Assert.Equal(Email, user.GetProperty("email").GetString());
    }

    /// <summary>docs/oidc.md's browser-app snippet, with the example addresses replaced by the test's.</summary>
    private static string Page(string issuer, string origin)
    {
        var docs = File.ReadAllText(SourceTree.Path("docs", "oidc.md"));
        var section = docs[docs.IndexOf("## Browser app", StringComparison.Ordinal)..];
        var start = section.IndexOf("```js\n", StringComparison.Ordinal) + "```js\n".Length;
        var snippet = section[start..section.IndexOf("```", start, StringComparison.Ordinal)]
            .Replace("https://auth.example.org", issuer, StringComparison.Ordinal)
            .Replace("https://spa.example.org", origin, StringComparison.Ordinal);
        var parts = snippet.Split("// on /callback");
        var helper = parts[1][parts[1].IndexOf("function base64url", StringComparison.Ordinal)..];
        var callback = parts[1][..parts[1].IndexOf("function base64url", StringComparison.Ordinal)];
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Browser app</title></head>
            <body><pre id="user"></pre>
            <script type="module">
            {{helper}}
            if (location.pathname === "/callback") {
            {{callback}}
              document.getElementById("user").textContent = JSON.stringify(user);
            } else {
            {{parts[0]}}
            }
            </script></body></html>
            """;
    }

    private static async Task<WebApplication> ServeAsync(int port, string html)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/", () => Results.Content(html, "text/html"));
        app.MapGet("/callback", () => Results.Content(html, "text/html"));
        await app.StartAsync();
        return app;
    }
}
