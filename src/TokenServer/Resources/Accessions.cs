using System.Globalization;

namespace TokenServer.Resources;

public enum ResourceKind
{
    Project,
    Sample,
    Experiment,
    Run,
}

/// <summary>
/// Accessions are the record's identity id behind a prefix per kind, zero-padded to six digits
/// (PRJ000001, SAM000001, EXP000001, RUN000001; ENA/SRA style). The id comes from the store's
/// identity column (SQLite AUTOINCREMENT, PostgreSQL identity), which never hands out a number
/// twice, even after a delete, so an accession is unique and stable on both providers without
/// a counter table. Parsing an accession gives the primary key: every lookup is by key.
/// </summary>
public static class Accessions
{
    public const string ProjectPrefix = "PRJ";
    public const string SamplePrefix = "SAM";
    public const string ExperimentPrefix = "EXP";
    public const string RunPrefix = "RUN";

    public static string Prefix(ResourceKind kind) => kind switch
    {
        ResourceKind.Project => ProjectPrefix,
        ResourceKind.Sample => SamplePrefix,
        ResourceKind.Experiment => ExperimentPrefix,
        _ => RunPrefix,
    };

    public static string Format(ResourceKind kind, long id) => Prefix(kind) + id.ToString("D6", CultureInfo.InvariantCulture);

    public static string Project(long id) => ProjectPrefix + id.ToString("D6", CultureInfo.InvariantCulture);

    public static string Sample(long id) => SamplePrefix + id.ToString("D6", CultureInfo.InvariantCulture);

    public static string Experiment(long id) => ExperimentPrefix + id.ToString("D6", CultureInfo.InvariantCulture);

    public static string Run(long id) => RunPrefix + id.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The id behind an accession of this kind; null for anything else (which the caller answers with 404 or 400, never 500).</summary>
    public static long? TryParse(ResourceKind kind, string? accession) =>
        TryParseAny(accession) is { } parsed && parsed.Kind == kind ? parsed.Id : null;

    /// <summary>Kind and id of any accession; case-insensitive prefix, digits as formatted (at least six).</summary>
    public static (ResourceKind Kind, long Id)? TryParseAny(string? accession)
    {
        if (accession is null || accession.Length < 9 || accession.Length > 22)
        {
            return null;
        }

        ResourceKind? kind = accession[..3].ToUpperInvariant() switch
        {
            ProjectPrefix => ResourceKind.Project,
            SamplePrefix => ResourceKind.Sample,
            ExperimentPrefix => ResourceKind.Experiment,
            RunPrefix => ResourceKind.Run,
            _ => null,
        };
        var digits = accession.AsSpan(3);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return null;
            }
        }

        if (kind is null || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
        {
            return null;
        }

        // One spelling per record: PRJ0000001 is not PRJ000001.
        return Format(kind.Value, id).Length == accession.Length ? (kind.Value, id) : null;
    }
}
