namespace TokenServer.Tests.Oidc;

/// <summary>
/// A test that runs Node.js (node 20 and npm are on the CI machines). On a developer machine
/// without node on the PATH it skips with the reason; under CI=true it runs and fails instead.
/// </summary>
public sealed class NodeFactAttribute : Xunit.FactAttribute
{
    public NodeFactAttribute()
    {
        if (RelyingPartyProcess.FindOnPath("node") is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "Node.js test: install node 20 and npm to run it.";
        }
    }
}
