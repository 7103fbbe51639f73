namespace TokenServer.Hosting;

public static class NoStoreExtensions
{
    /// <summary>
    /// Marks every response of these routes uncacheable: they carry tokens or credentials
    /// (RFC 6749 §5.1, RFC 6750 §5.3).
    /// </summary>
    public static TBuilder WithNoStore<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.CacheControl = "no-store";
            headers.Pragma = "no-cache";
            return next(context);
        });
}
