namespace TokenServer.Tests.Browser;

/// <summary>
/// A test that drives a real headless Chromium (Debian's package at /usr/bin/chromium; Playwright
/// cannot download its own browser here). On a developer machine without it the test skips with
/// the reason; under CI=true it runs and fails, since .ci/run installs chromium.
/// </summary>
public sealed class BrowserFactAttribute : Xunit.FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(ChromiumPath) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"Browser test: install Debian's chromium ({ChromiumPath}) to run it.";
        }
    }
}
