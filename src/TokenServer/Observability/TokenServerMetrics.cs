using System.Diagnostics.Metrics;
using TokenServer.Store;

namespace TokenServer.Observability;

/// <summary>
/// TokenServer's own instruments (README "Operating", docs/grafana-dashboard.json). Login,
/// refresh, reuse and lockout counts come from the audit events every front door already
/// records (Store/AuditLog.cs), so no front door counts anything itself.
/// </summary>
public sealed class TokenServerMetrics
{
    public const string MeterName = "TokenServer";

    private readonly Meter meter;
    private readonly Counter<long> logins;
    private readonly Counter<long> loginFailures;
    private readonly Counter<long> refreshes;
    private readonly Counter<long> reuseDetections;
    private readonly Counter<long> lockouts;
    private readonly Histogram<double> hashWait;

    public TokenServerMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        logins = meter.CreateCounter<long>("tokenserver.logins", "{login}", "Successful logins, by dialect.");
        loginFailures = meter.CreateCounter<long>("tokenserver.login.failures", "{failure}", "Refused logins, by dialect and reason.");
        refreshes = meter.CreateCounter<long>("tokenserver.refreshes", "{refresh}", "Refresh tokens redeemed, by dialect.");
        reuseDetections = meter.CreateCounter<long>("tokenserver.refresh.reuse_detections", "{detection}", "Used refresh tokens presented again (the session is revoked).");
        lockouts = meter.CreateCounter<long>("tokenserver.lockouts", "{lockout}", "Accounts locked after repeated failures.");
        hashWait = meter.CreateHistogram<double>("tokenserver.hashing.wait", "s", "Time a password hash waited for a hashing slot.");
    }

    /// <summary>Counts an audit event (the event types and details of Store/AuditLog.cs).</summary>
    public void Audited(string type, string? detail, string? dialect)
    {
        var dialectTag = new KeyValuePair<string, object?>("dialect", dialect ?? "none");
        switch (type)
        {
            case AuditEventTypes.LoginSucceeded:
                logins.Add(1, dialectTag);
                break;
            case AuditEventTypes.LoginFailed:
                loginFailures.Add(1, dialectTag, new("reason", FailureReason(detail)));
                break;
            case AuditEventTypes.Refreshed:
                refreshes.Add(1, dialectTag);
                break;
            case AuditEventTypes.RefreshReuseDetected:
                reuseDetections.Add(1);
                break;
            case AuditEventTypes.LockedOut:
                lockouts.Add(1);
                break;
            default:
                break;
        }
    }

    public void HashWaited(TimeSpan wait) => hashWait.Record(wait.TotalSeconds);

    /// <summary>Gauges read when a scrape or an export asks; each callback is cheap and lock-free.</summary>
    public void ObserveGauges(Func<int> hashQueueDepth, Func<double> revocationPollLag, Func<double?> signingKeyAge)
    {
        meter.CreateObservableGauge("tokenserver.hashing.queue_depth", hashQueueDepth, "{hash}", "Password hashes running or waiting now.");
        meter.CreateObservableGauge("tokenserver.revocation_poll.lag", revocationPollLag, "s", "Time since this instance last read the store's revocations.");
        meter.CreateObservableGauge("tokenserver.signing_key.age", () => signingKeyAge() is { } age ? [new Measurement<double>(age)] : Array.Empty<Measurement<double>>(), "s", "Time since the signing key in use started signing.");
    }

    private static string FailureReason(string? detail) => detail switch
    {
        "unknown account" => "unknown_account",
        "wrong password" => "wrong_password",
        "account disabled" => "disabled",
        "account locked" => "locked_out",
        { } d when d.StartsWith("client_credentials", StringComparison.Ordinal) => "bad_client",
        _ => "other",
    };
}
