using System.Diagnostics;

namespace TokenServer.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Runs the server binary's operator commands as a separate process, as an operator would, on a test's store.</summary>
public static class CliProcess
{
    public static Task<CliResult> RunWithAsync(TestStore store, string? stdin, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunInAsync(Path.GetTempPath(), store, stdin, environment, args);

    /// <summary>Runs the command with <paramref name="workingDirectory"/> as the working directory.</summary>
    public static async Task<CliResult> RunInAsync(string workingDirectory, TestStore store, string? stdin, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Database__Provider"] = store.Provider;
        start.Environment["ConnectionStrings__TokenServer"] = store.ConnectionString;
        start.Environment["TokenServer__Passwords__WorkFactor"] = "4";
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    public static Task<CliResult> RunAsync(TestStore store, params string[] args) => RunWithAsync(store, null, null, args);
}
