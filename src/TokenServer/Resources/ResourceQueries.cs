using System.Linq.Expressions;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using Microsoft.Extensions.Options;
using TokenServer.Tokens;

namespace TokenServer.Resources;

/// <summary>
/// Projections from entities to wire records, applied inside the query so a page is one
/// SELECT (organization slug by join, run files by a single joined collection), never N+1.
/// </summary>
public static class ResourceQueries
{
    private static readonly JsonSerializerOptions AttributeJson = new() { MaxDepth = 4 };

    public static readonly Expression<Func<Project, ProjectResponse>> ToProject = p => new ProjectResponse(
        Accessions.Project(p.Id), p.Title, p.Description, p.Organization.Slug, p.IsPublic, p.ReleaseDate, p.CreatedAt, p.UpdatedAt);

    public static readonly Expression<Func<Sample, SampleResponse>> ToSample = s => new SampleResponse(
        Accessions.Sample(s.Id), Accessions.Project(s.ProjectId), s.Title, s.Description, s.ChecklistId, s.Organism, s.TaxonId,
        ReadAttributes(s.AttributesJson), s.Organization.Slug, s.IsPublic, s.ReleaseDate, s.CreatedAt, s.UpdatedAt);

    public static readonly Expression<Func<Experiment, ExperimentResponse>> ToExperiment = e => new ExperimentResponse(
        Accessions.Experiment(e.Id), Accessions.Project(e.ProjectId), Accessions.Sample(e.SampleId), e.Title, e.LibraryStrategy,
        e.LibrarySource, e.LibrarySelection, e.LibraryLayout, e.Platform, e.InstrumentModel, e.Organization.Slug, e.IsPublic,
        e.ReleaseDate, e.CreatedAt, e.UpdatedAt);

    public sealed record RunRow(
        long Id, long ProjectId, long SampleId, long ExperimentId, string? Title, string Organization, bool IsPublic,
        DateTimeOffset? ReleaseDate, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, List<FileRow> Files);

    public sealed record FileRow(long Id, string FileName, long SizeBytes, string Md5);

    public static readonly Expression<Func<Run, RunRow>> ToRunRow = r => new RunRow(
        r.Id, r.ProjectId, r.SampleId, r.ExperimentId, r.Title, r.Organization.Slug, r.IsPublic, r.ReleaseDate, r.CreatedAt, r.UpdatedAt,
        r.Files.OrderBy(f => f.Id).Select(f => new FileRow(f.Id, f.FileName, f.SizeBytes, f.Md5)).ToList());

    public static RunResponse ToRun(RunRow r, string baseUrl) => new(
        Accessions.Run(r.Id), Accessions.Project(r.ProjectId), Accessions.Sample(r.SampleId), Accessions.Experiment(r.ExperimentId), r.Title,
        r.Files.Select(f => new RunFileResponse(f.FileName, f.SizeBytes, f.Md5, DownloadUrl(baseUrl, r.Id, f.FileName))).ToList(),
        r.Organization, r.IsPublic, r.ReleaseDate, r.CreatedAt, r.UpdatedAt);

    /// <summary>
    /// The base of every file link: the configured issuer (TokenServer:Issuer), never the
    /// request's Host header, which any client can set, so a shared report or cached answer
    /// cannot carry links to an attacker's host (OWASP host header injection).
    /// </summary>
    public static string BaseUrl(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<IOptions<TokenOptions>>().Value.Issuer.TrimEnd('/');

    public static string DownloadUrl(string baseUrl, long runId, string fileName) =>
        $"{baseUrl}/api/v1/runs/{Accessions.Run(runId)}/download?file={Uri.EscapeDataString(fileName)}";

    public static IReadOnlyDictionary<string, string> ReadAttributes(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json, AttributeJson) ?? [];

    public static string WriteAttributes(IReadOnlyDictionary<string, string> attributes) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(attributes.ToDictionary(), StringComparer.Ordinal), AttributeJson);

    /// <summary>One page in accession order (stable: ids never change), counted and fetched in two indexed queries.</summary>
    public static async Task<Page<TOut>> PageAsync<T, TOut>(IQueryable<T> query, Expression<Func<T, TOut>> select, Paging paging, HttpRequest request, CancellationToken cancellationToken)
        where T : class, IOwnedRecord
    {
        var count = await query.CountAsync(cancellationToken);
        var rows = count <= paging.Skip
            ? []
            : await query.OrderBy(r => r.Id).Skip(paging.Skip).Take(paging.Size).Select(select).ToListAsync(cancellationToken);
        return paging.ToPage(request, count, rows);
    }
}
