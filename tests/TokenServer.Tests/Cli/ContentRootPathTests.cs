using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Cli;

/// <summary>
/// Relative paths in the settings (the SQLite store, TokenServer:Resources:FilesDirectory)
/// resolve against the content root, the app's directory, never the working directory the
/// server binary happens to be started from (README "Operating").
/// </summary>
public sealed class ContentRootPathTests : IDisposable
{
    private readonly DirectoryInfo contentRoot = Directory.CreateTempSubdirectory("tokenserver-root-");
    private readonly DirectoryInfo workingDirectory = Directory.CreateTempSubdirectory("tokenserver-cwd-");
    private readonly TestStore store = TestStore.Create();

    public void Dispose()
    {
        store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        contentRoot.Delete(recursive: true);
        workingDirectory.Delete(recursive: true);
    }

    private Task<CliResult> RunAsync(string connectionString, params string[] args) =>
        CliProcess.RunInAsync(workingDirectory.FullName, store, null, new Dictionary<string, string>
        {
            ["ASPNETCORE_CONTENTROOT"] = contentRoot.FullName,
            ["Database__Provider"] = "Sqlite",
            ["ConnectionStrings__TokenServer"] = connectionString,
            ["TokenServer__Resources__FilesDirectory"] = "uploads",
        }, args);

    [Fact]
    public async Task DefaultSqliteStore_AndRelativeFilesDirectory_LiveUnderTheContentRoot_NotTheWorkingDirectory()
    {
        var result = await RunAsync("", "config", "check");

        Assert.True(result.ExitCode == 0, result.Error);
        var expectedStore = Path.Combine(contentRoot.FullName, "data", "tokenserver.db");
        Assert.Equal(
            $"Configuration is valid.\nstore: Sqlite {expectedStore}\nfiles: {Path.Combine(contentRoot.FullName, "uploads")}",
            result.Output.Trim().ReplaceLineEndings("\n"));
        Assert.True(File.Exists(expectedStore));
        Assert.Empty(workingDirectory.EnumerateFileSystemInfos());
    }

    [Fact]
    public async Task RelativeSqliteDataSource_IsUnderTheContentRoot_NotTheWorkingDirectory()
    {
        var result = await RunAsync("Data Source=stores/relative.db", "migrate");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(File.Exists(Path.Combine(contentRoot.FullName, "stores", "relative.db")));
        Assert.Empty(workingDirectory.EnumerateFileSystemInfos());
    }
}
