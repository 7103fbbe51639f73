using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;

namespace TokenServer.Hosting;

/// <summary>One page of a list: the SeqDB document's and Django REST framework's shape.</summary>
public sealed record Page<T>(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] IReadOnlyList<T> Results);

/// <summary>
/// The one paging rule of every list (docs/resources.md, "Lists"): <c>?page=</c> and
/// <c>?page_size=</c> as in the SeqDB document and Django REST framework's
/// PageNumberPagination, pages from 1, 20 per page by default, at most 100. A page_size
/// outside 1 to 100, or a page that is not a number from 1, is refused with a 400 naming the
/// parameter, on every list alike. next/previous are absolute URLs that keep every other query
/// parameter.
/// </summary>
public readonly record struct Paging(int Page, int Size)
{
    public const int DefaultSize = 20;
    public const int MaxSize = 100;

    public int Skip => (Page - 1) * Size;

    public static (Paging Paging, ValidationProblem? Problem) Parse(HttpRequest request)
    {
        var page = 1;
        var size = DefaultSize;
        if (request.Query.TryGetValue("page", out var p) && (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1))
        {
            return (default, Problems.Field("page", "Use a page number from 1, for example ?page=2."));
        }

        if (request.Query.TryGetValue("page_size", out var s) && (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxSize))
        {
            return (default, Problems.Field("page_size", $"Use a page size from 1 to {MaxSize}, for example ?page_size=50."));
        }

        // Skip stays within int: the page count of any list is far below this.
        if (page > 10_000_000)
        {
            return (default, Problems.Field("page", "That page is beyond the end of any list."));
        }

        return (new Paging(page, size), null);
    }

    /// <summary>This page of a list held in memory.</summary>
    public Page<T> Of<T>(HttpRequest request, IReadOnlyList<T> all) => ToPage(request, all.Count, [.. all.Skip(Skip).Take(Size)]);

    public Page<T> ToPage<T>(HttpRequest request, int count, IReadOnlyList<T> results) =>
        new(count,
            Skip + Size < count ? Link(request, Page + 1) : null,
            Page > 1 ? Link(request, Math.Min(Page - 1, Math.Max(1, (count + Size - 1) / Size))) : null,
            results);

    private static string Link(HttpRequest request, int page)
    {
        var query = QueryString.Create(request.Query
            .Where(q => q.Key != "page")
            .Append(new KeyValuePair<string, StringValues>("page", page.ToString(CultureInfo.InvariantCulture))));
        return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{query}";
    }
}
