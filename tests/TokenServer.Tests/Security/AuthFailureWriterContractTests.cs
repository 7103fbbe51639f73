using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Hosting;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>
/// Every front door's <see cref="IAuthFailureWriter"/> (found on the mapped endpoints, so a new
/// dialect is covered as soon as it is mapped) answers every failure kind with its status:
/// in particular 429 and 503 for the rate limit and the hashing gate (docs/security.md).
/// </summary>
public sealed class AuthFailureWriterContractTests : IDisposable
{
    private readonly TokenServerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task EveryWriter_AnswersEveryKind_WithItsStatus()
    {
        factory.CreateClient().Dispose();
        var writers = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<IAuthFailureWriter>())
            .OfType<IAuthFailureWriter>()
            .Append(ProblemAuthFailureWriter.Instance)
            .Distinct()
            .ToList();
        var expected = new Dictionary<AuthFailureKind, int>
        {
            [AuthFailureKind.MissingCredentials] = StatusCodes.Status401Unauthorized,
            [AuthFailureKind.InvalidToken] = StatusCodes.Status401Unauthorized,
            [AuthFailureKind.Forbidden] = StatusCodes.Status403Forbidden,
            [AuthFailureKind.AmbiguousToken] = StatusCodes.Status400BadRequest,
            [AuthFailureKind.RateLimited] = StatusCodes.Status429TooManyRequests,
            [AuthFailureKind.Overloaded] = StatusCodes.Status503ServiceUnavailable,
            [AuthFailureKind.StoreUnavailable] = StatusCodes.Status503ServiceUnavailable,
        };
        Assert.Equal(expected.Count, Enum.GetValues<AuthFailureKind>().Length);
        Assert.True(writers.Count >= 2, "expected the default problem-details writer and at least the OAuth writer");

        var failures = new List<string>();
        await using var scope = factory.Services.CreateAsyncScope();
        foreach (var writer in writers)
        {
            foreach (var (kind, status) in expected)
            {
                var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
                context.Response.Body = new MemoryStream();
                await writer.WriteAsync(context, kind);
                if (context.Response.StatusCode != status || context.Response.Body.Length == 0)
                {
                    failures.Add($"{writer.GetType().Name} {kind}: {context.Response.StatusCode}, {context.Response.Body.Length} bytes");
                }
            }
        }

        Assert.Empty(failures);
    }
}
