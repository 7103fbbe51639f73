using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;

namespace TokenServer.Hosting;

public enum BodyError
{
    None,
    Empty,
    TooLarge,
    Malformed,
}

public readonly record struct BodyResult<T>(T? Value, BodyError Error, string? Message)
    where T : class
{
    public bool Ok => Error == BodyError.None;
}

/// <summary>
/// Reads a credentials body whatever its Content-Type claims (CONTRACTS.md "lenient body"):
/// a JSON object, or form fields. The NeMO seed posts JSON with <c>curl -d</c> and no
/// Content-Type, so it arrives labelled form-urlencoded; the TrackHub seed posts real form
/// fields. The raw bytes are read once: a JSON body is never form-decoded, which would turn
/// '+' in a password into a space.
/// </summary>
public static class LenientBody
{
    public const int DefaultLimit = 16 * 1024;

    private static readonly JsonSerializerOptions Options = new() { MaxDepth = 8 };

    public static async Task<BodyResult<T>> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken, int limit = DefaultLimit)
        where T : class
    {
        if (request.ContentLength > limit)
        {
            return TooLarge<T>(limit);
        }

        if (request.HasFormContentType && request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            var form = await request.ReadFormAsync(cancellationToken);
            var fromMultipart = new JsonObject();
            foreach (var (key, value) in form)
            {
                fromMultipart[key] = value.ToString();
            }

            return Convert<T>(fromMultipart);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return TooLarge<T>(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var text = Encoding.UTF8.GetString(bytes).Trim();
        if (text.Length == 0)
        {
            return new BodyResult<T>(null, BodyError.Empty, "The request body is empty. Send a JSON object or form fields.");
        }

        if (text[0] is '{' or '[')
        {
            try
            {
                return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 8 }) is JsonObject json
                    ? Convert<T>(json)
                    : new BodyResult<T>(null, BodyError.Malformed, "The request body must be a JSON object, not an array or a value.");
            }
            catch (JsonException)
            {
                return new BodyResult<T>(null, BodyError.Malformed, "The request body is not valid JSON. Send a JSON object such as {\"username\": \"...\", \"password\": \"...\"}.");
            }
        }

        var fields = new JsonObject();
        foreach (var (key, value) in QueryHelpers.ParseQuery(text))
        {
            fields[key] = value.ToString();
        }

        return Convert<T>(fields);
    }

    private static BodyResult<T> Convert<T>(JsonObject json)
        where T : class
    {
        try
        {
            var value = json.Deserialize<T>(Options);
            return value is null
                ? new BodyResult<T>(null, BodyError.Malformed, "The request body must be a JSON object.")
                : new BodyResult<T>(value, BodyError.None, null);
        }
        catch (JsonException)
        {
            return new BodyResult<T>(null, BodyError.Malformed, "A field has the wrong type: every credential field is a string.");
        }
    }

    private static BodyResult<T> TooLarge<T>(int limit)
        where T : class =>
        new(null, BodyError.TooLarge, $"The request body is larger than {limit} bytes.");
}
