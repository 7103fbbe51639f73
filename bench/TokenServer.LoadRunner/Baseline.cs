using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenServer.LoadRunner;

/// <summary>
/// The bare ASP.NET Core app with JwtBearer (bench/TokenServer.BareJwt), run in the same run,
/// on the same cores and with the same scenario settings as TokenServer: its peak memory and its
/// public and protected GET rates are what docs/performance.md's memory and token-check targets compare with.
/// </summary>
internal static class Baseline
{
    public const string Prefix = "bare-";

    public static async Task<(List<ScenarioResult> Results, JsonObject Report)> RunAsync(
        string directory, string workingDirectory, RunOptions options, Func<string, Func<ServerProcess>, Task<ServerGroup>> start)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var environment = new Dictionary<string, string> { ["BARE_JWT_PUBLIC_KEY"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) };
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "bare",
            Audience = "bare",
            Claims = new Dictionary<string, object> { ["sub"] = "1" },
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });

        var app = await start("bare app", () => Program.StartProcess(Path.Combine(directory, "TokenServer.BareJwt.dll"), workingDirectory, environment));
        var results = new List<ScenarioResult>();
        foreach (var scenario in Scenarios.Bare(token))
        {
            var result = await scenario.RunAsync(app.Client, options, app.CpuTime);
            results.Add(result);
            Console.WriteLine(result.Describe());
        }

        app.Stop();
        var report = new JsonObject
        {
            ["first_request_ms"] = Math.Round(app.FirstRequest.TotalMilliseconds),
            ["peak_memory_mb"] = Math.Round(app.PeakMemoryMegabytes(), 1),
            ["resident_mb_after_scenarios"] = app.ResidentMegabytes(),
            ["protected_over_public"] = Math.Round(results[1].RequestsPerSecond / results[0].RequestsPerSecond, 2),
        };
        Console.WriteLine($"bare app: peak memory {report["peak_memory_mb"]} MB, first answer {report["first_request_ms"]} ms, protected GET {report["protected_over_public"]} x its public GET");
        return (results, report);
    }
}
