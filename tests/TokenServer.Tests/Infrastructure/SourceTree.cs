using System.Reflection;

namespace TokenServer.Tests.Infrastructure;

/// <summary>The checkout the tests were built from (docs/, tests/rp-*), recorded in the test assembly at build time.</summary>
public static class SourceTree
{
    private static readonly string Root = typeof(SourceTree).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SourceRoot").Value!;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
