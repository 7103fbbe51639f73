using Microsoft.Extensions.Options;
using TokenServer.Hosting;

using TokenServer.Store;

namespace TokenServer.Email;

public static class EmailAuditEvents
{
    public const string EmailVerified = "account.email_verified";
    public const string EmailChanged = "account.email_changed";
}

public static class EmailSetup
{
    public static WebApplicationBuilder AddEmail(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateOnStart()
            .PostConfigure<IHostEnvironment>((o, environment) => o.PickupDirectory = environment.UnderContentRoot(o.PickupDirectory));
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<OutgoingMail>();
        services.AddHostedService<MailWorker>();
        services.AddScoped<AccountMails>();
        services.AddScoped<EmailChange>();
        services.AddScoped<AccountLinks>();
        services.AddScoped<IPruningStep, AccountTokenPruning>();
        services.AddSingleton<IMailSender>(sp =>
        {
            var smtp = sp.GetRequiredService<IOptions<EmailOptions>>().Value.Smtp;
            return !string.IsNullOrWhiteSpace(smtp.Host) ? ActivatorUtilities.CreateInstance<SmtpMailSender>(sp)
                : sp.GetRequiredService<IHostEnvironment>().IsDevelopment() ? ActivatorUtilities.CreateInstance<PickupDirectoryMailSender>(sp)
                : ActivatorUtilities.CreateInstance<NoMailSender>(sp);
        });
        return builder;
    }
}
