namespace TokenServer.Hosting;

/// <summary>
/// Describes a request body for the OpenAPI document only. Unlike <c>Accepts&lt;T&gt;()</c> it
/// does not make routing refuse other Content-Types with 415: lenient-body routes must read a
/// JSON body sent as form-urlencoded (CONTRACTS.md), and the OAuth routes answer a wrong
/// Content-Type with an RFC 6749 error body.
/// </summary>
public sealed record BodyDocumentation(Type Type, IReadOnlyList<string> ContentTypes);

public static class BodyDocumentationExtensions
{
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.WithMetadata(new BodyDocumentation(typeof(T), contentTypes.Length == 0 ? ["application/json"] : contentTypes));
}
