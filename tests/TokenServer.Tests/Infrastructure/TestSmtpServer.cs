using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace TokenServer.Tests.Infrastructure;

/// <summary>A real SMTP server in the test process, on a free loopback port, keeping every mail it receives.</summary>
public sealed class TestSmtpServer : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Store store = new();
    private readonly Task running;

    public TestSmtpServer()
    {
        Port = FreePort();
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(store);
        running = new SmtpServer.SmtpServer(options, services).StartAsync(stop.Token);
    }

    public int Port { get; }

    public IReadOnlyCollection<MimeMessage> Received => store.Messages;

    /// <summary>Points a test server's mail at this one.</summary>
    public void Configure(Dictionary<string, string?> settings)
    {
        settings["TokenServer:Email:Smtp:Host"] = "127.0.0.1";
        settings["TokenServer:Email:Smtp:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["TokenServer:Email:Smtp:Security"] = "None";
        settings["TokenServer:Email:Smtp:From"] = "TokenServer <no-reply@tokenserver.test>";
    }

    /// <summary>The <paramref name="count"/>th mail to this address, polled for up to ten seconds (mail is sent in the background).</summary>
    public async Task<MimeMessage> WaitForMailAsync(string to, int count = 1)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var mails = MailsTo(to);
            if (mails.Count >= count)
            {
                return mails[count - 1];
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"No mail number {count} to {to} within ten seconds; received {store.Messages.Count} in all.");
    }

    public List<MimeMessage> MailsTo(string to) =>
        [.. store.Messages.Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, to, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>The token of the single-use link in a mail.</summary>
    public static string TokenIn(MimeMessage mail)
    {
        var match = System.Text.RegularExpressions.Regex.Match(mail.TextBody ?? string.Empty, @"\?token=([A-Za-z0-9_-]{43})");
        Assert.True(match.Success, $"No link with a token in: {mail.TextBody}");
        return match.Groups[1].Value;
    }

    /// <summary>The address of the page a mail links to (a reset or verification link).</summary>
    public static Uri LinkIn(MimeMessage mail)
    {
        var match = System.Text.RegularExpressions.Regex.Match(mail.TextBody ?? string.Empty, @"https?://\S+/account/(reset-password|verify-email)\?token=\S+");
        Assert.True(match.Success, $"No link to a page in: {mail.TextBody}");
        return new Uri(match.Value);
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            running.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled on purpose.
        }

        stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Store : MessageStore
    {
        private readonly ConcurrentQueue<MimeMessage> messages = new();

        public IReadOnlyCollection<MimeMessage> Messages => messages;

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
