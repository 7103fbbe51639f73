using System.Diagnostics;

namespace TokenServer.Tests.Oidc;

/// <summary>
/// A test that runs Debian's python3 with Authlib and Flask (python3-authlib, python3-flask;
/// .ci/run installs them). Without them it skips locally, and under CI=true it runs and fails.
/// </summary>
public sealed class PythonFactAttribute : Xunit.FactAttribute
{
    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(RelyingPartyProcess.Python))
        {
            return false;
        }

        using var probe = Process.Start(new ProcessStartInfo(RelyingPartyProcess.Python, ["-c", "import authlib, flask, requests"]) { RedirectStandardError = true, UseShellExecute = false })!;
        probe.WaitForExit();
        return probe.ExitCode == 0;
    });

    public PythonFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") != "true" && !Available.Value)
        {
            Skip = "Python test: install Debian's python3-authlib, python3-flask and python3-requests to run it.";
        }
    }
}
