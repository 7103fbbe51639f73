using TokenServer.Store;

namespace TokenServer.Cli;

/// <summary>
/// The server's services, built only when a command runs (so <c>--help</c> reads no
/// configuration), with settings validated as the server validates them at start.
/// </summary>
public sealed class CliHost(WebApplicationBuilder builder, TextWriter output) : IAsyncDisposable
{
    private WebApplication? app;

    public TextWriter Output { get; } = output;

    public IServiceProvider Services => (app ??= Build()).Services;

    /// <summary>A scope on a store whose schema is current: every command that reads or writes the store migrates first, as the server does at start.</summary>
    public async Task<AsyncServiceScope> OpenStoreAsync(CancellationToken cancellationToken)
    {
        var scope = Services.CreateAsyncScope();
        try
        {
            var migrator = ActivatorUtilities.CreateInstance<StoreMigrator>(Services);
            await migrator.StartAsync(cancellationToken);
            return scope;
        }
        catch
        {
            await scope.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    private WebApplication Build()
    {
        // An operator command prints its own results on stdout: the logs keep to warnings, on stderr.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter((string?)null, LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Error);
        var built = builder.Build();
        built.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        return built;
    }
}
