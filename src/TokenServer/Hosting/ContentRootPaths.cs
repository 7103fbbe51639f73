namespace TokenServer.Hosting;

/// <summary>
/// Relative paths in the settings are under the content root (the app's directory, see
/// <see cref="HostingSetup.Options"/>), never the working directory the binary happens to be
/// started from (README "Operating").
/// </summary>
public static class ContentRootPaths
{
    /// <summary>A relative path made absolute under the content root; blank stays blank, for the options validator to name.</summary>
    public static string UnderContentRoot(this IHostEnvironment environment, string path) =>
        string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(path, environment.ContentRootPath);
}
