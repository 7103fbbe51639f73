using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>Search, the metadata checklists, and CSV bulk submission of samples.</summary>
public static class SubmissionEndpoints
{
    private const int MaxReportedErrors = 100;
    private const int MaxQueryLength = 200;

    public static RouteGroupBuilder MapSubmissions(this RouteGroupBuilder api)
    {
        api.MapGet("/search", Search).WithSummary("Search accessions, titles, descriptions and sample attributes")
            .WithDescription("?q=<text or accession>; paged like every list. Results are projects, then samples, experiments and runs.");
        api.MapGet("/checklists", ListChecklists).WithSummary("The built-in sample metadata checklists");
        api.MapGet("/checklists/{checklistId}", GetChecklist).WithSummary("One checklist and its fields");
        api.MapGet("/bulk-submit/template/{checklistId}", Template).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("CSV header for bulk-submitting samples against a checklist")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv");
        api.MapPost("/bulk-submit", BulkSubmit).RequireAuthorization().DisableAntiforgery()
            .WithSummary("Create many samples from a CSV (all or nothing)")
            .WithDescription("?project=PRJ000001&checklist_id=minimal; the body is the CSV (Content-Type: text/csv) or a multipart field 'file'. "
                + "Columns: those of GET /bulk-submit/template/{checklist_id}. Any bad cell rejects the whole file with a list of {row, column, message}.")
            .Accepts<StagingUpload>("text/csv", "multipart/form-data")
            .WritesProblems()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return api;
    }

    private static async Task<Results<Ok<Page<SearchHit>>, ValidationProblem>> Search(
        Caller caller, string? q, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var text = q?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > MaxQueryLength)
        {
            return Problems.Field("q", $"Give 1 to {MaxQueryLength} characters to search for: /api/v1/search/?q=soil or ?q=SAM000001.");
        }

        var now = time.GetUtcNow();
        var baseUrl = ResourceQueries.BaseUrl(request);
        var accession = Accessions.TryParseAny(text);
        var needle = text.ToUpperInvariant();
        var id = accession?.Id ?? 0L;
        var kind = accession?.Kind;

#pragma warning disable CA1862 // EF Core translates ToUpper() to SQL UPPER() on both providers; StringComparison overloads do not translate.
        var projects = db.Set<Project>().AsNoTracking().VisibleTo(caller, now)
            .Where(p => kind == null ? p.Title.ToUpper().Contains(needle) || (p.Description != null && p.Description.ToUpper().Contains(needle)) : kind == ResourceKind.Project && p.Id == id)
            .Select(p => new { p.Id, Title = (string?)p.Title, p.Description });
        var samples = db.Set<Sample>().AsNoTracking().VisibleTo(caller, now)
            .Where(s => kind == null
                ? s.Title.ToUpper().Contains(needle) || (s.Description != null && s.Description.ToUpper().Contains(needle)) || s.Organism.ToUpper().Contains(needle) || s.AttributesJson.ToUpper().Contains(needle)
                : kind == ResourceKind.Sample && s.Id == id)
            .Select(s => new { s.Id, Title = (string?)s.Title, s.Description });
        var experiments = db.Set<Experiment>().AsNoTracking().VisibleTo(caller, now)
            .Where(e => kind == null
                ? e.Title.ToUpper().Contains(needle) || e.Platform.ToUpper().Contains(needle) || (e.InstrumentModel != null && e.InstrumentModel.ToUpper().Contains(needle))
                : kind == ResourceKind.Experiment && e.Id == id)
            .Select(e => new { e.Id, Title = (string?)e.Title, Description = e.InstrumentModel });
        var runs = db.Set<Run>().AsNoTracking().VisibleTo(caller, now)
            .Where(r => kind == null ? r.Title != null && r.Title.ToUpper().Contains(needle) : kind == ResourceKind.Run && r.Id == id)
            .Select(r => new { r.Id, r.Title, Description = (string?)null });
#pragma warning restore CA1862

        // One page across four kinds: count each, then take the slice of each kind that falls on this page.
        var sources = new[] { (ResourceKind.Project, projects), (ResourceKind.Sample, samples), (ResourceKind.Experiment, experiments), (ResourceKind.Run, runs) };
        var total = 0;
        var hits = new List<SearchHit>();
        foreach (var (k, source) in sources)
        {
            var count = await source.CountAsync(cancellationToken);
            var skip = Math.Max(0, paging.Skip - total);
            var take = Math.Min(count - skip, paging.Size - hits.Count);
            if (take > 0 && paging.Skip < total + count)
            {
                var rows = await source.OrderBy(r => r.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
                hits.AddRange(rows.Select(r => new SearchHit(
                    Accessions.Format(k, r.Id), k.ToString().ToLowerInvariant(), r.Title, r.Description,
                    $"{baseUrl}/api/v1/{k.ToString().ToLowerInvariant()}s/{Accessions.Format(k, r.Id)}")));
            }

            total += count;
        }

        return TypedResults.Ok(paging.ToPage(request, total, hits));
    }

    private static Results<Ok<Page<Checklist>>, ValidationProblem> ListChecklists(HttpRequest request)
    {
        var (paging, problem) = Paging.Parse(request);
        return problem is not null ? problem : TypedResults.Ok(paging.Of(request, Checklists.All));
    }

    private static Results<Ok<Checklist>, ProblemHttpResult> GetChecklist(string checklistId) =>
        Checklists.Find(checklistId) is { } checklist ? TypedResults.Ok(checklist) : ChecklistNotFound(checklistId);

    private static Results<ContentHttpResult, ProblemHttpResult> Template(string checklistId, HttpResponse response)
    {
        if (Checklists.Find(checklistId) is not { } checklist)
        {
            return ChecklistNotFound(checklistId);
        }

        response.Headers.ContentDisposition = $"attachment; filename=\"{checklist.Id}-template.csv\"";
        // RFC 4180 §2: CRLF line ends.
        return TypedResults.Text(string.Join(',', BulkCsv.Columns(checklist)) + "\r\n", "text/csv; charset=utf-8");
    }

    private static ProblemHttpResult ChecklistNotFound(string checklistId) =>
        Problems.Create(StatusCodes.Status404NotFound, "Checklist not found",
            $"There is no checklist '{checklistId}'. Use one of: {string.Join(", ", Checklists.All.Select(c => c.Id))} (GET /api/v1/checklists/).");

    private static async Task<Results<Created<BulkSubmitResponse>, ValidationProblem, ProblemHttpResult>> BulkSubmit(
        Caller caller, string? project, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "checklist_id")] string? checklistId, HttpRequest request, TokenServerDb db, IOptions<ResourceOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!caller.CanEdit)
        {
            return ResourceProblems.ViewerCannotWrite();
        }

        if (Checklists.Find(checklistId) is not { } checklist)
        {
            return Problems.Field("checklist_id", $"Name the checklist the CSV follows: ?checklist_id= one of {string.Join(", ", Checklists.All.Select(c => c.Id))}.");
        }

        if (string.IsNullOrWhiteSpace(project))
        {
            return Problems.Field("project", "Name the project the samples belong to: ?project=PRJ000001.");
        }

        var now = time.GetUtcNow();
        var (parent, parentProblem) = await Writable.ParentAsync(db.Set<Project>(), ResourceKind.Project, "project", project, caller, db, request, now, cancellationToken);
        if (parentProblem is not null)
        {
            return parentProblem;
        }

        var limits = options.Value;
        var (csv, bodyProblem) = await ReadCsvAsync(request, limits.BulkMaxBytes, cancellationToken);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        var (rows, errors, broken, rowCapPassedAt) = BulkCsv.Parse(new StringReader(csv!), checklist, limits, cancellationToken);
        if (rowCapPassedAt is { } line)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "Too many rows",
                $"The sample on line {line} is one more than the {limits.BulkMaxRows} a bulk submission may hold (TokenServer:Resources:BulkMaxRows); nothing was created. Split the file.");
        }

        if (errors.Count > 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid CSV",
                detail: broken is not null
                    ? $"The CSV could not be read past {broken}; nothing was created. Fix it as 'errors' says and send the whole file again."
                    : $"{errors.Count} problem(s) found; nothing was created. Fix the cells listed in 'errors' (row 1 is the header) and send the whole file again.",
                extensions: new Dictionary<string, object?> { ["errors"] = errors.Take(MaxReportedErrors).ToList() });
        }

        var samples = rows.Select(r => SampleFields.New(parent!, caller, r.Title, r.Description, checklist.Id, r.Organism, r.TaxonId, r.Attributes, now)).ToList();
        db.AddRange(samples);
        // One SaveChanges is one transaction: every sample or none.
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/samples/?project={Accessions.Project(parent!.Id)}",
            new BulkSubmitResponse(samples.Count, samples.Select(s => Accessions.Sample(s.Id)).ToList()));
    }

    private static async Task<(string? Csv, ProblemHttpResult? Problem)> ReadCsvAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, BulkTooLarge(maxBytes));
        }

        Stream body;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            if (form.Files.GetFile("file") is not { } file)
            {
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "No file", "Send the CSV in the multipart field 'file', or as the body with Content-Type: text/csv."));
            }

            if (file.Length > maxBytes)
            {
                return (null, BulkTooLarge(maxBytes));
            }

            body = file.OpenReadStream();
        }
        else
        {
            body = request.Body;
        }

        await using (body)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, BulkTooLarge(maxBytes));
                }

                buffer.Write(chunk, 0, read);
            }

            try
            {
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length).TrimStart('\uFEFF');
                return string.IsNullOrWhiteSpace(text)
                    ? (null, Problems.Create(StatusCodes.Status400BadRequest, "Empty CSV", "The body is empty. Start from GET /api/v1/bulk-submit/template/{checklist_id}."))
                    : (text, null);
            }
            catch (DecoderFallbackException)
            {
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "Not UTF-8", "Save the CSV as UTF-8 and send it again."));
            }
        }
    }

    private static ProblemHttpResult BulkTooLarge(long maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "CSV too large", $"A bulk submission is at most {maxBytes} bytes (TokenServer:Resources:BulkMaxBytes); split the file.");
}
