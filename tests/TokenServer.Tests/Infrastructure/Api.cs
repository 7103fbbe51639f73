using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace TokenServer.Tests.Infrastructure;

public sealed record Tokens(string AccessToken, string RefreshToken);

/// <summary>Drives the native API over HTTP, as a user's script would.</summary>
public static class Api
{
    public const string Password = "secure-password-123";

    public static async Task<JsonElement> RegisterAsync(this HttpClient client, string email, string password = Password, string fullName = "Test User", string? role = null, string? username = null, string? bearer = null)
    {
        var body = new Dictionary<string, string> { ["email"] = email, ["password"] = password, ["full_name"] = fullName };
        if (role is not null)
        {
            body["role"] = role;
        }

        if (username is not null)
        {
            body["username"] = username;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/register") { Content = JsonContent.Create(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static async Task<Tokens> LoginAsync(this HttpClient client, string login, string password = Password)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = login, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        return new Tokens(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    public static async Task<Tokens> RegisterAndLoginAsync(this HttpClient client, string email, string? role = null, string? username = null)
    {
        await client.RegisterAsync(email, role: role, username: username);
        return await client.LoginAsync(email);
    }

    public static Task<Tokens> LoginAdminAsync(this HttpClient client) => client.LoginAsync(TokenServerFactory.AdminEmail, TokenServerFactory.AdminPassword);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static HttpRequestMessage WithBearer(this HttpRequestMessage request, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    public static async Task<HttpResponseMessage> GetWithTokenAsync(this HttpClient client, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path).WithBearer(token);
        return await client.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> PostJsonWithTokenAsync(this HttpClient client, string path, object body, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }.WithBearer(token);
        return await client.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string path, IEnumerable<KeyValuePair<string, string>> fields, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (bearer is not null)
        {
            request.WithBearer(bearer);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Sends exactly these bytes with exactly this Content-Type (or none), as curl -d would.</summary>
    public static async Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string path, string body, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        return await client.SendAsync(request);
    }
}

public static class JsonAssert
{
    /// <summary>The object has exactly these properties, no more, no fewer.</summary>
    public static void HasExactly(JsonElement element, params string[] names)
    {
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        var actual = element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names.Order(StringComparer.Ordinal).ToArray(), actual);
    }

    public static void IsProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
