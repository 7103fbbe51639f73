using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Browser;

/// <summary>The device page and Swagger UI's sign-in through TokenServer's pages, in a real browser.</summary>
public sealed class DeviceAndSwaggerBrowserTests
{
    private const string Email = "browser-cli@example.org";

    [BrowserFact]
    public async Task DevicePage_ConnectsACommandLineTool()
    {
        await using var server = await RealServer.StartAsync();
        var admin = await server.Api.LoginAdminAsync();
        await server.Api.RegisterAsync(Email);
        using (var created = await server.Api.PostJsonWithTokenAsync("/api/v1/admin/clients", new
        {
            client_id = "cli",
            name = "Command line",
            type = "public",
            grant_types = new[] { "urn:ietf:params:oauth:grant-type:device_code" },
            scopes = new[] { "openid", "email" },
            first_party = true,
        }, admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var start = await server.Api.PostFormAsync("/connect/device_authorization", new Dictionary<string, string> { ["client_id"] = "cli", ["scope"] = "openid email" });
        var device = await start.ReadJsonAsync();
        var poll = new Dictionary<string, string> { ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code", ["device_code"] = device.GetProperty("device_code").GetString()!, ["client_id"] = "cli" };

        await using var context = await server.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(device.GetProperty("verification_uri").GetString()!);
        await SignOnBrowserTests.SignInOnPageAsync(page, Email);
        await page.GetByLabel("Code shown on your device").FillAsync(device.GetProperty("user_code").GetString()!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Allow Command line?");
        using (var pending = await server.Api.PostFormAsync("/api/v1/auth/token", poll))
        {
            Assert.Equal("authorization_pending", (await pending.ReadJsonAsync()).GetProperty("error").GetString());
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Device connected");

        server.Factory.Time.Advance(TimeSpan.FromSeconds(6));
        using var tokens = await server.Api.PostFormAsync("/api/v1/auth/token", poll);
        Assert.Equal(HttpStatusCode.OK, tokens.StatusCode);
        using var me = await server.Api.GetWithTokenAsync("/api/v1/auth/me", (await tokens.ReadJsonAsync()).GetProperty("access_token").GetString()!);
        Assert.Equal(Email, (await me.ReadJsonAsync()).GetProperty("email").GetString());
    }

    [BrowserFact]
    public async Task SwaggerUi_AuthorizesWithTheCodeFlow_ThenCallsAProtectedRoute()
    {
        await using var server = await RealServer.StartAsync();
        await server.Api.RegisterAsync(Email);
        await using var context = await server.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(server.Address, "/swagger").ToString());
        await page.Locator("button.authorize").First.ClickAsync();
        var section = page.Locator(".auth-container", new() { HasText = "authorizationCode with PKCE" });
        await Assertions.Expect(section.Locator("#client_id_authorizationCode")).ToHaveValueAsync("swagger-ui");
        var popup = await page.RunAndWaitForPopupAsync(() => section.GetByRole(AriaRole.Button, new() { Name = "Apply given OAuth2 credentials" }).ClickAsync());
        var closed = new TaskCompletionSource();
        popup.Close += (_, _) => closed.TrySetResult();
        await SignOnBrowserTests.SignInOnPageAsync(popup, Email);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await Assertions.Expect(section.GetByRole(AriaRole.Button, new() { Name = "Remove authorization" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Close" }).First.ClickAsync();

        var operation = page.Locator(".opblock", new() { HasText = "/api/v1/auth/me" }).First;
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Assertions.Expect(operation.Locator(".live-responses-table tr.response .response-col_status").First).ToHaveTextAsync("200");
        var body = await operation.Locator(".live-responses-table tr.response .microlight").First.InnerTextAsync();
        Assert.Equal(Email, JsonDocument.Parse(body).RootElement.GetProperty("email").GetString());
    }
}
