using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenServer.Store;
using TokenServer.Tests.Infrastructure;

namespace TokenServer.Tests.Security;

/// <summary>TokenServer:DataProtection:CertificatePath encrypts the Data Protection key ring in the store (docs/security.md).</summary>
public sealed class KeyRingProtectionTests : IDisposable
{
    private readonly TokenServerFactory factory = new();
    private readonly string pfxPath = Path.Combine(Path.GetTempPath(), $"tokenserver-dp-{Guid.NewGuid():N}.pfx");

    public void Dispose()
    {
        factory.Dispose();
        File.Delete(pfxPath);
    }

    [Fact]
    public async Task WithCertificate_KeyRingIsStoredEncrypted_AndLoginWorks()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=TokenServer key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllBytesAsync(pfxPath, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        factory.Settings["TokenServer:DataProtection:CertificatePath"] = pfxPath;
        factory.Settings["TokenServer:DataProtection:CertificatePassword"] = "pfx-password";
        var client = factory.CreateClient();

        await client.RegisterAndLoginAsync("dp@example.org");

        await using var scope = factory.Services.CreateAsyncScope();
        var xml = await scope.ServiceProvider.GetRequiredService<TokenServerDb>().DataProtectionKeys.Select(k => k.Xml).ToListAsync();
        Assert.NotEmpty(xml);
        Assert.All(xml, x => Assert.Contains("EncryptedData", x!, StringComparison.Ordinal));
    }

    [Fact]
    public void WithMissingCertificate_ServerDoesNotStart_AndTheMessageNamesTheKey()
    {
        factory.Settings["TokenServer:DataProtection:CertificatePath"] = pfxPath;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("TokenServer:DataProtection:CertificatePath", error.ToString(), StringComparison.Ordinal);
    }
}
