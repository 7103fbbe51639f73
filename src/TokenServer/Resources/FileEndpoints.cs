using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>Shown to Swagger UI so it offers a file picker; the handler streams the multipart body itself.</summary>
public sealed class StagingUpload
{
    [System.Text.Json.Serialization.JsonPropertyName("file")]
    public IFormFile? File { get; set; }
}

/// <summary>Run file downloads, the file report, staged uploads and attaching them to runs.</summary>
public static class FileEndpoints
{
    /// <summary>Room for multipart boundaries and part headers on top of the file itself.</summary>
    private const long MultipartOverhead = 64 * 1024;

    private static readonly string[] ReportColumns =
        ["project_accession", "sample_accession", "experiment_accession", "run_accession", "file_count", "file_names", "file_bytes", "file_md5", "file_urls"];

    public static RouteGroupBuilder MapFiles(this RouteGroupBuilder api)
    {
        api.MapGet("/runs/{accession}/download", Download).WithSummary("Download a run's file (range requests supported)")
            .WithDescription("?file=<name> picks one of the run's files; without it, the first. Send 'Range: bytes=0-1023' for part of it (206).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/runs/{accession}/files", Attach).RequireAuthorization().WritesProblems().WithSummary("Attach one of your staged files to a run")
            .WithDescription("Body {\"staged_file_id\": 1}. The file leaves your staging area and becomes the run's.");
        api.MapGet("/filereport", FileReport).WithSummary("One row per run with its files, for a project, sample, experiment or run accession")
            .WithDescription("TSV by default; JSON with ?format=json or Accept: application/json.")
            .Produces(StatusCodes.Status200OK, contentType: "text/tab-separated-values")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var staging = api.MapGroup("/staging/files").RequireAuthorization();
        staging.MapGet("/", ListStaged).WithSummary("Your staged files");
        staging.MapPost("/", Upload).DisableAntiforgery().WithSummary("Upload a file to your staging area (multipart field 'file')")
            .WithDescription("curl -F file=@reads.fastq.gz ... The size limit is TokenServer:Resources:MaxUploadBytes; larger files get 413.")
            .Accepts<StagingUpload>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        staging.MapDelete("/{id:long}", DeleteStaged).WithSummary("Delete one of your staged files");
        return api;
    }

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> Download(
        Caller caller, string accession, string? file, TokenServerDb db, FileStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Accessions.TryParse(ResourceKind.Run, accession);
        var run = id is null ? null : await db.Set<Run>().AsNoTracking().VisibleTo(caller, time.GetUtcNow())
            .Where(r => r.Id == id)
            .Select(r => new { r.Id, Files = r.Files.OrderBy(f => f.Id).Select(f => new { f.FileName, f.StoragePath }).ToList() })
            .FirstOrDefaultAsync(cancellationToken);
        if (run is null)
        {
            return ResourceProblems.NotFound(ResourceKind.Run, accession);
        }

        var chosen = file is null ? run.Files.FirstOrDefault() : run.Files.FirstOrDefault(f => f.FileName == file);
        if (chosen is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "File not found", run.Files.Count == 0
                ? $"{accession} has no files yet."
                : $"{accession} has no file named '{file}'. Its files: {string.Join(", ", run.Files.Select(f => f.FileName))}.");
        }

        // RFC 9110 §14: Results.File answers Range with 206 and Content-Range, and If-Range/ETag-free requests with the whole file.
        return TypedResults.PhysicalFile(store.FullPath(chosen.StoragePath), "application/octet-stream", chosen.FileName, enableRangeProcessing: true);
    }

    private static async Task<Results<Ok<List<FileReportRow>>, ContentHttpResult, ValidationProblem, ProblemHttpResult>> FileReport(
        Caller caller, string? accession, string? format, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(accession))
        {
            return Problems.Field("accession", "Give a project, sample, experiment or run accession: /api/v1/filereport?accession=PRJ000001.");
        }

        if (Accessions.TryParseAny(accession.Trim()) is not { } parsed)
        {
            return Problems.Field("accession", $"'{accession}' is not an accession. Use one like PRJ000001, SAM000001, EXP000001 or RUN000001.");
        }

        var json = string.Equals(format, "json", StringComparison.OrdinalIgnoreCase)
            || (format is null && request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)));
        if (format is not null && !json && !string.Equals(format, "tsv", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Field("format", "Use format=tsv (the default) or format=json.");
        }

        var now = time.GetUtcNow();
        var id = parsed.Id;
        var visible = parsed.Kind switch
        {
            ResourceKind.Project => await db.Set<Project>().VisibleTo(caller, now).AnyAsync(p => p.Id == id, cancellationToken),
            ResourceKind.Sample => await db.Set<Sample>().VisibleTo(caller, now).AnyAsync(s => s.Id == id, cancellationToken),
            ResourceKind.Experiment => await db.Set<Experiment>().VisibleTo(caller, now).AnyAsync(e => e.Id == id, cancellationToken),
            _ => await db.Set<Run>().VisibleTo(caller, now).AnyAsync(r => r.Id == id, cancellationToken),
        };
        if (!visible)
        {
            return ResourceProblems.NotFound(parsed.Kind, accession);
        }

        var runs = db.Set<Run>().AsNoTracking();
        runs = parsed.Kind switch
        {
            ResourceKind.Project => runs.Where(r => r.ProjectId == id),
            ResourceKind.Sample => runs.Where(r => r.SampleId == id),
            ResourceKind.Experiment => runs.Where(r => r.ExperimentId == id),
            _ => runs.Where(r => r.Id == id),
        };
        var rows = await runs.VisibleTo(caller, now).OrderBy(r => r.Id).Select(ResourceQueries.ToRunRow).ToListAsync(cancellationToken);
        var baseUrl = ResourceQueries.BaseUrl(request);
        var report = rows.Select(r => new FileReportRow(
            Accessions.Project(r.ProjectId), Accessions.Sample(r.SampleId), Accessions.Experiment(r.ExperimentId), Accessions.Run(r.Id), r.Files.Count,
            string.Join(';', r.Files.Select(f => f.FileName)),
            string.Join(';', r.Files.Select(f => f.SizeBytes)),
            string.Join(';', r.Files.Select(f => f.Md5)),
            string.Join(';', r.Files.Select(f => ResourceQueries.DownloadUrl(baseUrl, r.Id, f.FileName))))).ToList();
        if (json)
        {
            return TypedResults.Ok(report);
        }

        var tsv = new StringBuilder().AppendJoin('\t', ReportColumns).Append('\n');
        foreach (var r in report)
        {
            tsv.AppendJoin('\t', [r.ProjectAccession, r.SampleAccession, r.ExperimentAccession, r.RunAccession, r.FileCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Tsv(r.FileNames), r.FileBytes, r.FileMd5, Tsv(r.FileUrls)]).Append('\n');
        }

        return TypedResults.Text(tsv.ToString(), "text/tab-separated-values; charset=utf-8");
    }

    /// <summary>
    /// File names are the uploader's: a tab or newline in one would break the row, and a cell
    /// that starts with = + - @ (or a tab or carriage return) is a formula to a spreadsheet. Such
    /// a cell gets a leading apostrophe, as OWASP's "CSV Injection" page advises (JSON, the
    /// other format, is left as it is).
    /// </summary>
    private static string Tsv(string value) =>
        (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value)
            .Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    private static async Task<Results<Ok<Page<StagedFileResponse>>, ValidationProblem>> ListStaged(
        HttpRequest request, Caller caller, TokenServerDb db, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var owner = caller.AccountId;
        var query = db.Set<StagedFile>().AsNoTracking().Where(f => f.OwnerId == owner);
        var count = await query.CountAsync(cancellationToken);
        var rows = await query.OrderBy(f => f.Id).Skip(paging.Skip).Take(paging.Size)
            .Select(f => new StagedFileResponse(f.Id, f.FileName, f.SizeBytes, f.Md5, f.CreatedAt)).ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.ToPage(request, count, rows));
    }

    private static async Task<Results<Created<StagedFileResponse>, ProblemHttpResult>> Upload(
        Caller caller, HttpRequest request, TokenServerDb db, FileStore store, UploadLimiter limiter, IOptions<ResourceOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!caller.CanEdit)
        {
            return ResourceProblems.ViewerCannotWrite();
        }

        var o = options.Value;
        var owner = caller.AccountId!.Value;
        if (limiter.TryAcquire(owner) is { } wait)
        {
            request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status429TooManyRequests, "Too many uploads",
                $"Your account may start {o.UploadsPerWindow} uploads per {o.UploadWindow} (TokenServer:Resources:UploadsPerWindow). Wait the number of seconds in Retry-After.");
        }

        var limit = o.MaxUploadBytes;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Send multipart/form-data",
                "Upload the file as multipart/form-data in the field 'file', for example: curl -F file=@reads.fastq.gz -H 'Authorization: Bearer ...' http://localhost:8000/api/v1/staging/files");
        }

        // The whole request, every part included, is capped: by Content-Length before reading,
        // and while reading a chunked body (a part that is not the file is read too, to skip it).
        var requestLimit = limit + MultipartOverhead;
        if (request.ContentLength > requestLimit)
        {
            return TooLarge(limit);
        }

        // Kestrel's default body limit (30 MB) would otherwise cut uploads the operator allowed.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = requestLimit;
        }

        var used = await db.Set<StagedFile>().Where(f => f.OwnerId == owner).SumAsync(f => f.SizeBytes, cancellationToken)
            + await db.Set<RunFile>().Where(f => f.UploadedById == owner).SumAsync(f => f.SizeBytes, cancellationToken);
        var quotaLeft = o.StorageQuotaBytes - used;
        var diskLeft = store.FreeBytes() - o.MinFreeDiskBytes;
        if (quotaLeft <= 0 || quotaLeft < request.ContentLength - MultipartOverhead)
        {
            return QuotaFull(used, o.StorageQuotaBytes);
        }

        if (diskLeft <= 0 || diskLeft < request.ContentLength)
        {
            return DiskFull(o.MinFreeDiskBytes);
        }

        try
        {
            var reader = new MultipartReader(boundary, new CappedStream(request.Body, requestLimit)) { HeadersLengthLimit = 16 * 1024 };
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.IsFileDisposition()
                    || !string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, "file", StringComparison.Ordinal))
                {
                    continue;
                }

                var name = CleanFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value ?? HeaderUtilities.RemoveQuotes(disposition.FileName).Value);
                if (name is null)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "File name missing",
                        "The 'file' part needs a file name of 1 to 255 characters without control characters (curl -F file=@name sends it).");
                }

                // Whichever bound is nearest stops the copy, and says which it was.
                var bound = Math.Min(limit, Math.Min(quotaLeft, diskLeft));
                var saved = await store.SaveStagedAsync(section.Body, bound, cancellationToken);
                if (saved is null)
                {
                    return bound == limit ? TooLarge(limit) : bound == quotaLeft ? QuotaFull(used, o.StorageQuotaBytes) : DiskFull(o.MinFreeDiskBytes);
                }

                var staged = new StagedFile
                {
                    OwnerId = owner,
                    FileName = name,
                    SizeBytes = saved.Size,
                    Md5 = saved.Md5,
                    StoragePath = saved.StoragePath,
                    CreatedAt = time.GetUtcNow(),
                };
                db.Add(staged);
                await db.SaveChangesAsync(cancellationToken);
                return TypedResults.Created($"/api/v1/staging/files/{staged.Id}", new StagedFileResponse(staged.Id, staged.FileName, staged.SizeBytes, staged.Md5, staged.CreatedAt));
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }
        catch (IOException e) when (FileStore.IsDiskFull(e))
        {
            return DiskFull(o.MinFreeDiskBytes);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "Unreadable upload",
                "The multipart body is malformed or was cut off. Send the file again in the field 'file'.");
        }

        return Problems.Create(StatusCodes.Status400BadRequest, "No file",
            "The request has no part named 'file' with a file in it. Use: curl -F file=@reads.fastq.gz ...");
    }

    private static ProblemHttpResult QuotaFull(long used, long quota) =>
        Problems.Create(StatusCodes.Status507InsufficientStorage, "Storage quota full",
            $"Your files use {used} of {quota} bytes (TokenServer:Resources:StorageQuotaBytes), and this upload would pass it. Delete staged files you do not need (DELETE /api/v1/staging/files/{{id}}) or ask the operator for more.");

    private static ProblemHttpResult DiskFull(long floor) =>
        Problems.Create(StatusCodes.Status507InsufficientStorage, "Server storage full",
            $"The server's disk would fall below the free space it keeps ({floor} bytes, TokenServer:Resources:MinFreeDiskBytes). Try again later; the operator has to free or add space.");

    private static ProblemHttpResult TooLarge(long limit) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "File too large",
            $"Uploads are limited to {limit} bytes (TokenServer:Resources:MaxUploadBytes). Split the file or ask the operator to raise the limit.");

    private static string? CleanFileName(string? raw)
    {
        var name = Path.GetFileName(raw?.Replace('\\', '/'))?.Trim();
        return string.IsNullOrEmpty(name) || name.Length > 255 || name is "." or ".." || name.Any(char.IsControl) ? null : name;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteStaged(
        long id, Caller caller, TokenServerDb db, FileStore store, CancellationToken cancellationToken)
    {
        var owner = caller.AccountId;
        var staged = await db.Set<StagedFile>().FirstOrDefaultAsync(f => f.Id == id && f.OwnerId == owner, cancellationToken);
        if (staged is null)
        {
            return StagedNotFound(id);
        }

        db.Remove(staged);
        await db.SaveChangesAsync(cancellationToken);
        store.Delete(staged.StoragePath);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult StagedNotFound(long? id) =>
        Problems.Create(StatusCodes.Status404NotFound, "Staged file not found",
            $"You have no staged file with the id {id}. GET /api/v1/staging/files lists yours.");

    private static async Task<Results<Created<RunFileResponse>, ValidationProblem, ProblemHttpResult>> Attach(
        Caller caller, string accession, [FromBody] AttachFileRequest body, HttpRequest request, TokenServerDb db, FileStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body.StagedFileId is not { } stagedId)
        {
            return Problems.Field("staged_file_id", "Give the id of one of your staged files (GET /api/v1/staging/files).");
        }

        var (run, problem) = await Writable.FindAsync(db.Set<Run>(), ResourceKind.Run, accession, caller, time.GetUtcNow(), null, null, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var staged = await db.Set<StagedFile>().FirstOrDefaultAsync(f => f.Id == stagedId && f.OwnerId == caller.AccountId, cancellationToken);
        if (staged is null)
        {
            return StagedNotFound(stagedId);
        }

        if (await db.Set<RunFile>().AnyAsync(f => f.RunId == run!.Id && f.FileName == staged.FileName, cancellationToken))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "File name taken", $"{accession} already has a file named '{staged.FileName}'.");
        }

        // The staged row is claimed by one conditional DELETE: of concurrent attaches of one
        // staged file exactly one deletes it and moves the file; the others get a 409.
        var claimed = await db.WriteAsync(() => db.Set<StagedFile>().Where(f => f.Id == stagedId && f.OwnerId == caller.AccountId).ExecuteDeleteAsync(cancellationToken), cancellationToken);
        if (claimed == 0)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Staged file already attached",
                $"Staged file {stagedId} was attached (or deleted) by another request just now. List your staged files with GET /api/v1/staging/files.");
        }

        db.Entry(staged).State = EntityState.Detached;
        var moved = store.MoveToRuns(staged.StoragePath);
        var file = new RunFile { RunId = run!.Id, UploadedById = staged.OwnerId, FileName = staged.FileName, SizeBytes = staged.SizeBytes, Md5 = staged.Md5, StoragePath = moved, CreatedAt = time.GetUtcNow() };
        db.Add(file);
        run.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var url = ResourceQueries.DownloadUrl(ResourceQueries.BaseUrl(request), run.Id, file.FileName);
        return TypedResults.Created(url, new RunFileResponse(file.FileName, file.SizeBytes, file.Md5, url));
    }
}
