using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using TokenServer.Hosting;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>
/// <c>?page=</c> and <c>?page_size=</c> as in the SeqDB document and Django REST framework's
/// PageNumberPagination: pages from 1, 20 per page by default, at most 100 (a larger
/// page_size is capped, not refused). next/previous are absolute URLs that keep every other
/// query parameter.
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

        if (request.Query.TryGetValue("page_size", out var s) && (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1))
        {
            return (default, Problems.Field("page_size", $"Use a page size from 1 to {MaxSize}, for example ?page_size=50."));
        }

        // Skip stays within int: the page count of any list is far below this.
        if (page > 10_000_000)
        {
            return (default, Problems.Field("page", "That page is beyond the end of any list."));
        }

        return (new Paging(page, Math.Min(size, MaxSize)), null);
    }

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
