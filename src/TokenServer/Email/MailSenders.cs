using Microsoft.Extensions.Options;
using MimeKit;

namespace TokenServer.Email;

/// <summary>Where outgoing mail goes: SMTP, a folder (Development without SMTP), or nowhere.</summary>
public interface IMailSender
{
    Task SendAsync(MimeMessage message, CancellationToken cancellationToken);
}

/// <summary>Sends through the operator's SMTP server with MailKit, one connection per mail (mails are rare).</summary>
internal sealed class SmtpMailSender(IOptions<EmailOptions> options) : IMailSender
{
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        using var client = new MailKit.Net.Smtp.SmtpClient();
        await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.Security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? string.Empty, cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}

/// <summary>Development without SMTP: each mail is written as an .eml file, so <c>dotnet run</c> needs no mail server.</summary>
internal sealed class PickupDirectoryMailSender(IOptions<EmailOptions> options, ILogger<PickupDirectoryMailSender> logger) : IMailSender
{
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(options.Value.PickupDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}.eml");
        // Written under another name and then renamed, so a reader of the folder never opens a half-written mail.
        var partial = path + ".partial";
        await message.WriteToAsync(partial, cancellationToken);
        File.Move(partial, path);
        logger.LogInformation("Mail '{Subject}' written to {Path} (no SMTP host is set)", message.Subject, path);
    }
}

/// <summary>Outside Development without SMTP: nothing is sent, and the log says so (without the mail's contents: they hold tokens).</summary>
internal sealed class NoMailSender(ILogger<NoMailSender> logger) : IMailSender
{
    public Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        logger.LogWarning("Mail '{Subject}' not sent: set TokenServer:Email:Smtp:Host to send mail", message.Subject);
        return Task.CompletedTask;
    }
}
