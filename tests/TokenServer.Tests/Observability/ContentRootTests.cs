using System.Diagnostics;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Observability;

/// <summary>The README's production command, run from another directory, reads the app's own appsettings.json.</summary>
public sealed class ContentRootTests
{
    [Fact]
    public async Task ServerStartedFromAnotherDirectory_UsesTheAppsAppsettings_AndLogsNoStoreQueries()
    {
        using var store = TestStore.Create();
        var elsewhere = Directory.CreateTempSubdirectory("tokenserver-cwd-");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = elsewhere.FullName,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.Environment["Database__Provider"] = store.Provider;
        start.Environment["ConnectionStrings__TokenServer"] = store.ConnectionString;
        start.Environment["Urls"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("ASPNETCORE_CONTENTROOT");
        start.Environment.Remove("DOTNET_CONTENTROOT");

        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Now listening on: ", StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data[(e.Data.IndexOf("http", StringComparison.Ordinal))..].Trim());
            }
        };
        process.BeginOutputReadLine();
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            for (var i = 0; i < 5; i++)
            {
                using var health = await client.GetAsync("/api/v1/health");
                Assert.True(health.IsSuccessStatusCode);
            }

            string log;
            lock (output)
            {
                log = output.ToString();
            }

            Assert.Contains($"Content root path: {AppContext.BaseDirectory.TrimEnd('/')}", log, StringComparison.Ordinal);

            // appsettings.json keeps EF Core's per-command log at Warning; without it every
            // revocation poll would log its query at Information.
            Assert.DoesNotContain("Executed DbCommand", log, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            elsewhere.Delete(recursive: true);
        }
    }
}
