using System.Threading.Channels;

namespace TokenServer.Email;

/// <summary>
/// Requests only queue a job and answer at once: whether the address has an account, and how
/// long a store lookup or an SMTP server takes, never shows in the answer or its timing.
/// </summary>
public sealed class OutgoingMail
{
    private readonly Channel<MailJob> channel = Channel.CreateBounded<MailJob>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Enqueue(MailJob job) => channel.Writer.TryWrite(job);

    internal ChannelReader<MailJob> Reader => channel.Reader;
}

internal sealed class MailWorker(OutgoingMail queue, IServiceScopeFactory scopes, ILogger<MailWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<AccountMails>().SendAsync(job, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The job's kind only: its address is personal data, its link a secret.
                logger.LogError(ex, "Sending a {Job} mail failed", job.GetType().Name);
            }
        }
    }
}
