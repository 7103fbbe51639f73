using MailKit.Security;
using Microsoft.Extensions.Options;

namespace TokenServer.Email;

public enum EmailVerification
{
    /// <summary>No verification mail; addresses are taken as given.</summary>
    Off,

    /// <summary>A verification mail at registration; an unverified account still logs in.</summary>
    Optional,

    /// <summary>Logins of an unverified account fail like a wrong password until the address is verified.</summary>
    Required,
}

/// <summary>Bound from <c>TokenServer:Email</c> (CONTRACTS.md operator contract).</summary>
public sealed class EmailOptions
{
    public const string Section = "TokenServer:Email";

    public EmailVerification Verification { get; set; } = EmailVerification.Optional;

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Where the links in mails point: the account pages' base address. Defaults to <c>TokenServer:Issuer</c>.</summary>
    public string? LinkBaseUrl { get; set; }

    /// <summary>How long a password-reset link works.</summary>
    public TimeSpan ResetLinkLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a verification (or email-change) link works.</summary>
    public TimeSpan VerificationLinkLifetime { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Mails of one kind to one account at most this often, whoever asks (so the reset route cannot flood a mailbox).</summary>
    public TimeSpan MinimumInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Where mails are written when no SMTP host is set in Development.</summary>
    public string PickupDirectory { get; set; } = "data/mail";
}

public sealed class SmtpOptions
{
    /// <summary>Unset: no SMTP (Development writes mails to <see cref="EmailOptions.PickupDirectory"/>, other environments send none).</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>MailKit's choice: <c>Auto</c> (TLS on 465, STARTTLS when offered elsewhere), <c>StartTls</c>, <c>SslOnConnect</c> or <c>None</c>.</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender address, for example <c>TokenServer &lt;no-reply@example.org&gt;</c>.</summary>
    public string? From { get; set; }
}

internal sealed class EmailOptionsValidator(IHostEnvironment environment) : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions o)
    {
        var errors = new List<string>();
        var smtp = o.Smtp;
        if (!string.IsNullOrWhiteSpace(smtp.Host))
        {
            if (smtp.Port is < 1 or > 65535)
            {
                errors.Add($"{EmailOptions.Section}:Smtp:Port must be between 1 and 65535, not {smtp.Port}.");
            }

            if (string.IsNullOrWhiteSpace(smtp.From) || !MimeKit.MailboxAddress.TryParse(smtp.From, out _))
            {
                errors.Add($"{EmailOptions.Section}:Smtp:From must be a sender address (for example 'TokenServer <no-reply@example.org>') when {EmailOptions.Section}:Smtp:Host is set.");
            }

            if (string.IsNullOrEmpty(smtp.Username) != string.IsNullOrEmpty(smtp.Password))
            {
                errors.Add($"{EmailOptions.Section}:Smtp:Username and :Password are set together or not at all.");
            }
        }
        else if (o.Verification == EmailVerification.Required && !environment.IsDevelopment())
        {
            errors.Add($"{EmailOptions.Section}:Verification is Required but {EmailOptions.Section}:Smtp:Host is not set: nobody could receive a verification mail, so nobody could log in. Set the SMTP keys or choose Optional.");
        }

        if (o.LinkBaseUrl is not null && !Uri.TryCreate(o.LinkBaseUrl, UriKind.Absolute, out _))
        {
            errors.Add($"{EmailOptions.Section}:LinkBaseUrl must be an absolute URL, not '{o.LinkBaseUrl}'.");
        }

        if (o.ResetLinkLifetime < TimeSpan.FromMinutes(5) || o.ResetLinkLifetime > TimeSpan.FromDays(1))
        {
            errors.Add($"{EmailOptions.Section}:ResetLinkLifetime must be between 00:05:00 and 1.00:00:00, not {o.ResetLinkLifetime}.");
        }

        if (o.VerificationLinkLifetime < TimeSpan.FromMinutes(5) || o.VerificationLinkLifetime > TimeSpan.FromDays(30))
        {
            errors.Add($"{EmailOptions.Section}:VerificationLinkLifetime must be between 00:05:00 and 30.00:00:00, not {o.VerificationLinkLifetime}.");
        }

        if (o.MinimumInterval < TimeSpan.Zero || o.MinimumInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{EmailOptions.Section}:MinimumInterval must be between 00:00:00 and 01:00:00, not {o.MinimumInterval}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
