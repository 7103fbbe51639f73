using System.Net;
using System.Net.Http.Json;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Email;

/// <summary>CONTRACTS.md operator contract: in Development without SMTP, mails are written to a folder, so <c>dotnet run</c> needs no mail server.</summary>
public sealed class DevelopmentMailTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"tokenserver-mail-{Guid.NewGuid():N}");
    private readonly TokenServerFactory factory = new();

    public DevelopmentMailTests()
    {
        factory.Settings["environment"] = "Development";
        factory.Settings["TokenServer:Resources:SeedDemoData"] = "false";
        factory.Settings["TokenServer:Email:PickupDirectory"] = folder;
    }

    public void Dispose()
    {
        factory.Dispose();
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task WithoutSmtp_TheVerificationMailIsAnEmlFile_WhoseLinkWorks()
    {
        using var client = factory.CreateClient();
        await client.RegisterAsync("dev@example.org");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        string[] files = [];
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && files.Length == 0)
        {
            await Task.Delay(25);
            files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.eml") : [];
        }

        var mail = await MimeKit.MimeMessage.LoadAsync(Assert.Single(files));
        Assert.Equal("dev@example.org", mail.To.Mailboxes.Single().Address);
        using var verify = await client.PostAsJsonAsync("/api/v1/auth/email/verify", new { token = TestSmtpServer.TokenIn(mail) });
        Assert.Equal(HttpStatusCode.NoContent, verify.StatusCode);
    }
}
