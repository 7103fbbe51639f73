using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>
/// /api/v1 projects, samples, experiments and runs (CONTRACTS.md, resources; SeqDB seed "Public
/// endpoints"): lists and reads are public for public records, writes need a token and a role.
/// </summary>
public static class ResourceEndpoints
{
    public static RouteGroupBuilder MapRecords(this RouteGroupBuilder api)
    {
        api.MapGet("/projects", ListProjects).WithSummary("List projects visible to you").WithDescription("Paged: ?page=&page_size= (at most 100).");
        api.MapGet("/projects/{accession}", GetProject).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("A project by accession (PRJ000001)");
        api.MapPost("/projects", CreateProject).RequireAuthorization().WritesProblems().WithSummary("Create a project (researcher, curator, admin)")
            .WithDescription("The organization is the x-org-slug header, or your only organization. Publishing (is_public, release_date) needs curator.");
        api.MapPatch("/projects/{accession}", UpdateProject).RequireAuthorization().WritesProblems().WithSummary("Change a project (researcher of its organization; publishing needs curator)");
        api.MapDelete("/projects/{accession}", DeleteProject).RequireAuthorization().WritesProblems().WithSummary("Delete a project without samples (curator, admin)");

        api.MapGet("/samples", ListSamples).WithSummary("List samples visible to you").WithDescription("Filter with ?project=PRJ000001. Paged: ?page=&page_size=.");
        api.MapGet("/samples/{accession}", GetSample).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("A sample by accession (SAM000001)");
        api.MapPost("/samples", CreateSample).RequireAuthorization().WritesProblems().WithSummary("Create a sample in a project (researcher, curator, admin)");
        api.MapPatch("/samples/{accession}", UpdateSample).RequireAuthorization().WritesProblems().WithSummary("Change a sample");
        api.MapDelete("/samples/{accession}", DeleteSample).RequireAuthorization().WritesProblems().WithSummary("Delete a sample without experiments (curator, admin)");

        api.MapGet("/experiments", ListExperiments).WithSummary("List experiments visible to you").WithDescription("Filter with ?project= or ?sample=.");
        api.MapGet("/experiments/{accession}", GetExperiment).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("An experiment by accession (EXP000001)");
        api.MapPost("/experiments", CreateExperiment).RequireAuthorization().WritesProblems().WithSummary("Create an experiment for a sample");
        api.MapPatch("/experiments/{accession}", UpdateExperiment).RequireAuthorization().WritesProblems().WithSummary("Change an experiment");
        api.MapDelete("/experiments/{accession}", DeleteExperiment).RequireAuthorization().WritesProblems().WithSummary("Delete an experiment without runs (curator, admin)");

        api.MapGet("/runs", ListRuns).WithSummary("List runs visible to you, with their files").WithDescription("Filter with ?project=, ?sample= or ?experiment=.");
        api.MapGet("/runs/{accession}", GetRun).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("A run by accession (RUN000001), with its files");
        api.MapPost("/runs", CreateRun).RequireAuthorization().WritesProblems().WithSummary("Create a run for an experiment");
        api.MapPatch("/runs/{accession}", UpdateRun).RequireAuthorization().WritesProblems().WithSummary("Change a run");
        api.MapDelete("/runs/{accession}", DeleteRun).RequireAuthorization().WritesProblems().WithSummary("Delete a run and its files (curator, admin)");
        return api;
    }

    /// <summary>The problem responses every write can give, for the OpenAPI document.</summary>
    internal static RouteHandlerBuilder WritesProblems(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    // ---- projects ----

    private static async Task<Results<Ok<Page<ProjectResponse>>, ValidationProblem>> ListProjects(
        Caller caller, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var query = db.Set<Project>().AsNoTracking().VisibleTo(caller, time.GetUtcNow());
        return TypedResults.Ok(await ResourceQueries.PageAsync(query, ResourceQueries.ToProject, paging, request, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectResponse>, ProblemHttpResult>> GetProject(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Accessions.TryParse(ResourceKind.Project, accession);
        var found = id is null ? null : await db.Set<Project>().AsNoTracking().VisibleTo(caller, time.GetUtcNow())
            .Where(p => p.Id == id).Select(ResourceQueries.ToProject).FirstOrDefaultAsync(cancellationToken);
        return found is null ? ResourceProblems.NotFound(ResourceKind.Project, accession) : TypedResults.Ok(found);
    }

    private static async Task<Results<Created<ProjectResponse>, ValidationProblem, ProblemHttpResult>> CreateProject(
        Caller caller, [FromBody] ProjectRequest body, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ResourceProblems.CannotCreate(caller, body.IsPublic, body.ReleaseDate) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new Dictionary<string, string[]>();
        Fields.Text(errors, "title", body.Title, required: true, OwnedRecordConfiguration.TitleLength);
        Fields.Text(errors, "description", body.Description, required: false, OwnedRecordConfiguration.DescriptionLength);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var (organizationId, orgProblem) = await Writable.OrganizationForNewRecordAsync(caller, request, db, cancellationToken);
        if (orgProblem is not null)
        {
            return orgProblem;
        }

        var now = time.GetUtcNow();
        var project = new Project
        {
            OrganizationId = organizationId!.Value,
            CreatedById = caller.AccountId,
            Title = body.Title!.Trim(),
            Description = Fields.Clean(body.Description),
            IsPublic = body.IsPublic ?? false,
            ReleaseDate = body.ReleaseDate?.ToUniversalTime(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(project);
        await db.SaveChangesAsync(cancellationToken);
        var response = await db.Set<Project>().AsNoTracking().Where(p => p.Id == project.Id).Select(ResourceQueries.ToProject).FirstAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/projects/{response.Accession}", response);
    }

    private static async Task<Results<Ok<ProjectResponse>, ValidationProblem, ProblemHttpResult>> UpdateProject(
        Caller caller, string accession, [FromBody] ProjectRequest body, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (project, problem) = await Writable.FindAsync(db.Set<Project>(), ResourceKind.Project, accession, caller, now, body.IsPublic, body.ReleaseDate, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        Fields.Text(errors, "title", body.Title, required: false, OwnedRecordConfiguration.TitleLength);
        Fields.Text(errors, "description", body.Description, required: false, OwnedRecordConfiguration.DescriptionLength);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        project!.Title = body.Title?.Trim() ?? project.Title;
        project.Description = body.Description is null ? project.Description : Fields.Clean(body.Description);
        Writable.ApplyVisibility(project, body.IsPublic, body.ReleaseDate);
        project.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await db.Set<Project>().AsNoTracking().Where(p => p.Id == project.Id).Select(ResourceQueries.ToProject).FirstAsync(cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteProject(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (project, problem) = await Writable.FindForDeleteAsync(db.Set<Project>(), ResourceKind.Project, accession, caller, time.GetUtcNow(), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (await db.Set<Sample>().AnyAsync(s => s.ProjectId == project!.Id, cancellationToken))
        {
            return ResourceProblems.HasChildren(accession, "samples");
        }

        db.Remove(project!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    // ---- samples ----

    private static async Task<Results<Ok<Page<SampleResponse>>, ValidationProblem>> ListSamples(
        Caller caller, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var query = db.Set<Sample>().AsNoTracking();
        if (Filters.Parent(request, "project", ResourceKind.Project, out var projectId) is { } bad)
        {
            return bad;
        }

        if (projectId is { } p)
        {
            query = query.Where(s => s.ProjectId == p);
        }

        query = query.VisibleTo(caller, time.GetUtcNow());
        return TypedResults.Ok(await ResourceQueries.PageAsync(query, ResourceQueries.ToSample, paging, request, cancellationToken));
    }

    private static async Task<Results<Ok<SampleResponse>, ProblemHttpResult>> GetSample(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Accessions.TryParse(ResourceKind.Sample, accession);
        var found = id is null ? null : await db.Set<Sample>().AsNoTracking().VisibleTo(caller, time.GetUtcNow())
            .Where(s => s.Id == id).Select(ResourceQueries.ToSample).FirstOrDefaultAsync(cancellationToken);
        return found is null ? ResourceProblems.NotFound(ResourceKind.Sample, accession) : TypedResults.Ok(found);
    }

    private static async Task<Results<Created<SampleResponse>, ValidationProblem, ProblemHttpResult>> CreateSample(
        Caller caller, [FromBody] SampleRequest body, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ResourceProblems.CannotCreate(caller, body.IsPublic, body.ReleaseDate) is { } forbidden)
        {
            return forbidden;
        }

        var errors = SampleFields.Validate(body, creating: true);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        var (project, parentProblem) = await Writable.ParentAsync(db.Set<Project>(), ResourceKind.Project, "project", body.Project, caller, db, request, now, cancellationToken);
        if (parentProblem is not null)
        {
            return parentProblem;
        }

        var sample = SampleFields.New(project!, caller, body.Title!, body.Description, body.Checklist, body.Organism!, body.TaxonId, body.Attributes ?? [], now);
        sample.IsPublic = body.IsPublic ?? false;
        sample.ReleaseDate = body.ReleaseDate?.ToUniversalTime();
        db.Add(sample);
        await db.SaveChangesAsync(cancellationToken);
        var response = await db.Set<Sample>().AsNoTracking().Where(s => s.Id == sample.Id).Select(ResourceQueries.ToSample).FirstAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/samples/{response.Accession}", response);
    }

    private static async Task<Results<Ok<SampleResponse>, ValidationProblem, ProblemHttpResult>> UpdateSample(
        Caller caller, string accession, [FromBody] SampleRequest body, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (sample, problem) = await Writable.FindAsync(db.Set<Sample>(), ResourceKind.Sample, accession, caller, now, body.IsPublic, body.ReleaseDate, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = SampleFields.Validate(body, creating: false);
        if (body.Project is not null && body.Project != Accessions.Project(sample!.ProjectId))
        {
            errors["project"] = ["A sample cannot move to another project; create a new sample there."];
        }

        var checklistId = body.Checklist ?? sample!.ChecklistId;
        var attributes = body.Attributes ?? ResourceQueries.ReadAttributes(sample!.AttributesJson);
        if (errors.Count == 0 && Checklists.Find(checklistId) is { } checklist)
        {
            foreach (var (field, message) in Checklists.Validate(checklist, attributes))
            {
                errors[$"attributes.{field}"] = [message];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        sample!.Title = body.Title?.Trim() ?? sample.Title;
        sample.Description = body.Description is null ? sample.Description : Fields.Clean(body.Description);
        sample.Organism = body.Organism?.Trim() ?? sample.Organism;
        sample.TaxonId = body.TaxonId ?? sample.TaxonId;
        sample.ChecklistId = checklistId;
        sample.AttributesJson = ResourceQueries.WriteAttributes(attributes);
        Writable.ApplyVisibility(sample, body.IsPublic, body.ReleaseDate);
        sample.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await db.Set<Sample>().AsNoTracking().Where(s => s.Id == sample.Id).Select(ResourceQueries.ToSample).FirstAsync(cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteSample(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (sample, problem) = await Writable.FindForDeleteAsync(db.Set<Sample>(), ResourceKind.Sample, accession, caller, time.GetUtcNow(), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (await db.Set<Experiment>().AnyAsync(e => e.SampleId == sample!.Id, cancellationToken))
        {
            return ResourceProblems.HasChildren(accession, "experiments");
        }

        db.Remove(sample!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    // ---- experiments ----

    private static async Task<Results<Ok<Page<ExperimentResponse>>, ValidationProblem>> ListExperiments(
        Caller caller, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var query = db.Set<Experiment>().AsNoTracking();
        var badProject = Filters.Parent(request, "project", ResourceKind.Project, out var projectId);
        var badSample = Filters.Parent(request, "sample", ResourceKind.Sample, out var sampleId);
        if ((badProject ?? badSample) is { } bad)
        {
            return bad;
        }

        if (projectId is { } p)
        {
            query = query.Where(e => e.ProjectId == p);
        }

        if (sampleId is { } s)
        {
            query = query.Where(e => e.SampleId == s);
        }

        query = query.VisibleTo(caller, time.GetUtcNow());
        return TypedResults.Ok(await ResourceQueries.PageAsync(query, ResourceQueries.ToExperiment, paging, request, cancellationToken));
    }

    private static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult>> GetExperiment(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Accessions.TryParse(ResourceKind.Experiment, accession);
        var found = id is null ? null : await db.Set<Experiment>().AsNoTracking().VisibleTo(caller, time.GetUtcNow())
            .Where(e => e.Id == id).Select(ResourceQueries.ToExperiment).FirstOrDefaultAsync(cancellationToken);
        return found is null ? ResourceProblems.NotFound(ResourceKind.Experiment, accession) : TypedResults.Ok(found);
    }

    private static async Task<Results<Created<ExperimentResponse>, ValidationProblem, ProblemHttpResult>> CreateExperiment(
        Caller caller, [FromBody] ExperimentRequest body, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ResourceProblems.CannotCreate(caller, body.IsPublic, body.ReleaseDate) is { } forbidden)
        {
            return forbidden;
        }

        var errors = ExperimentFields.Validate(body, creating: true);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        var (sample, parentProblem) = await Writable.ParentAsync(db.Set<Sample>(), ResourceKind.Sample, "sample", body.Sample, caller, db, request, now, cancellationToken);
        if (parentProblem is not null)
        {
            return parentProblem;
        }

        var experiment = new Experiment
        {
            ProjectId = sample!.ProjectId,
            SampleId = sample.Id,
            OrganizationId = sample.OrganizationId,
            CreatedById = caller.AccountId,
            Title = Fields.Clean(body.Title) ?? $"{body.Platform!.Trim()} sequencing of {Accessions.Sample(sample.Id)}",
            Platform = body.Platform!.Trim(),
            IsPublic = body.IsPublic ?? false,
            ReleaseDate = body.ReleaseDate?.ToUniversalTime(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        ExperimentFields.Apply(experiment, body);
        db.Add(experiment);
        await db.SaveChangesAsync(cancellationToken);
        var response = await db.Set<Experiment>().AsNoTracking().Where(e => e.Id == experiment.Id).Select(ResourceQueries.ToExperiment).FirstAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/experiments/{response.Accession}", response);
    }

    private static async Task<Results<Ok<ExperimentResponse>, ValidationProblem, ProblemHttpResult>> UpdateExperiment(
        Caller caller, string accession, [FromBody] ExperimentRequest body, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (experiment, problem) = await Writable.FindAsync(db.Set<Experiment>(), ResourceKind.Experiment, accession, caller, now, body.IsPublic, body.ReleaseDate, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = ExperimentFields.Validate(body, creating: false);
        if (body.Sample is not null && body.Sample != Accessions.Sample(experiment!.SampleId))
        {
            errors["sample"] = ["An experiment cannot move to another sample; create a new experiment there."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        experiment!.Title = Fields.Clean(body.Title) ?? experiment.Title;
        experiment.Platform = body.Platform?.Trim() ?? experiment.Platform;
        ExperimentFields.Apply(experiment, body);
        Writable.ApplyVisibility(experiment, body.IsPublic, body.ReleaseDate);
        experiment.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await db.Set<Experiment>().AsNoTracking().Where(e => e.Id == experiment.Id).Select(ResourceQueries.ToExperiment).FirstAsync(cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteExperiment(
        Caller caller, string accession, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (experiment, problem) = await Writable.FindForDeleteAsync(db.Set<Experiment>(), ResourceKind.Experiment, accession, caller, time.GetUtcNow(), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (await db.Set<Run>().AnyAsync(r => r.ExperimentId == experiment!.Id, cancellationToken))
        {
            return ResourceProblems.HasChildren(accession, "runs");
        }

        db.Remove(experiment!);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    // ---- runs ----

    private static async Task<Results<Ok<Page<RunResponse>>, ValidationProblem>> ListRuns(
        Caller caller, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (paging, problem) = Paging.Parse(request);
        if (problem is not null)
        {
            return problem;
        }

        var query = db.Set<Run>().AsNoTracking();
        var badProject = Filters.Parent(request, "project", ResourceKind.Project, out var projectId);
        var badSample = Filters.Parent(request, "sample", ResourceKind.Sample, out var sampleId);
        var badExperiment = Filters.Parent(request, "experiment", ResourceKind.Experiment, out var experimentId);
        if ((badProject ?? badSample ?? badExperiment) is { } bad)
        {
            return bad;
        }

        if (projectId is { } p)
        {
            query = query.Where(r => r.ProjectId == p);
        }

        if (sampleId is { } s)
        {
            query = query.Where(r => r.SampleId == s);
        }

        if (experimentId is { } e)
        {
            query = query.Where(r => r.ExperimentId == e);
        }

        query = query.VisibleTo(caller, time.GetUtcNow());
        var page = await ResourceQueries.PageAsync(query, ResourceQueries.ToRunRow, paging, request, cancellationToken);
        var baseUrl = ResourceQueries.BaseUrl(request);
        return TypedResults.Ok(new Page<RunResponse>(page.Count, page.Next, page.Previous, page.Results.Select(r => ResourceQueries.ToRun(r, baseUrl)).ToList()));
    }

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetRun(
        Caller caller, string accession, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Accessions.TryParse(ResourceKind.Run, accession);
        var found = id is null ? null : await db.Set<Run>().AsNoTracking().VisibleTo(caller, time.GetUtcNow())
            .Where(r => r.Id == id).Select(ResourceQueries.ToRunRow).FirstOrDefaultAsync(cancellationToken);
        return found is null ? ResourceProblems.NotFound(ResourceKind.Run, accession) : TypedResults.Ok(ResourceQueries.ToRun(found, ResourceQueries.BaseUrl(request)));
    }

    private static async Task<Results<Created<RunResponse>, ValidationProblem, ProblemHttpResult>> CreateRun(
        Caller caller, [FromBody] RunRequest body, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ResourceProblems.CannotCreate(caller, body.IsPublic, body.ReleaseDate) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new Dictionary<string, string[]>();
        Fields.Required(errors, "experiment", body.Experiment, "Give the accession of the experiment this run belongs to, for example EXP000001.");
        Fields.Text(errors, "title", body.Title, required: false, OwnedRecordConfiguration.TitleLength);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = time.GetUtcNow();
        var (experiment, parentProblem) = await Writable.ParentAsync(db.Set<Experiment>(), ResourceKind.Experiment, "experiment", body.Experiment, caller, db, request, now, cancellationToken);
        if (parentProblem is not null)
        {
            return parentProblem;
        }

        var run = new Run
        {
            ProjectId = experiment!.ProjectId,
            SampleId = experiment.SampleId,
            ExperimentId = experiment.Id,
            OrganizationId = experiment.OrganizationId,
            CreatedById = caller.AccountId,
            Title = Fields.Clean(body.Title),
            IsPublic = body.IsPublic ?? false,
            ReleaseDate = body.ReleaseDate?.ToUniversalTime(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        var row = await db.Set<Run>().AsNoTracking().Where(r => r.Id == run.Id).Select(ResourceQueries.ToRunRow).FirstAsync(cancellationToken);
        var response = ResourceQueries.ToRun(row, ResourceQueries.BaseUrl(request));
        return TypedResults.Created($"/api/v1/runs/{response.Accession}", response);
    }

    private static async Task<Results<Ok<RunResponse>, ValidationProblem, ProblemHttpResult>> UpdateRun(
        Caller caller, string accession, [FromBody] RunRequest body, HttpRequest request, TokenServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (run, problem) = await Writable.FindAsync(db.Set<Run>(), ResourceKind.Run, accession, caller, now, body.IsPublic, body.ReleaseDate, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        Fields.Text(errors, "title", body.Title, required: false, OwnedRecordConfiguration.TitleLength);
        if (body.Experiment is not null && body.Experiment != Accessions.Experiment(run!.ExperimentId))
        {
            errors["experiment"] = ["A run cannot move to another experiment; create a new run there."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        run!.Title = Fields.Clean(body.Title) ?? run.Title;
        Writable.ApplyVisibility(run, body.IsPublic, body.ReleaseDate);
        run.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        var row = await db.Set<Run>().AsNoTracking().Where(r => r.Id == run.Id).Select(ResourceQueries.ToRunRow).FirstAsync(cancellationToken);
        return TypedResults.Ok(ResourceQueries.ToRun(row, ResourceQueries.BaseUrl(request)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(
        Caller caller, string accession, TokenServerDb db, FileStore files, TimeProvider time, CancellationToken cancellationToken)
    {
        var (run, problem) = await Writable.FindForDeleteAsync(db.Set<Run>(), ResourceKind.Run, accession, caller, time.GetUtcNow(), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var paths = await db.Set<RunFile>().Where(f => f.RunId == run!.Id).Select(f => f.StoragePath).ToListAsync(cancellationToken);
        db.Remove(run!);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var path in paths)
        {
            files.Delete(path);
        }

        return TypedResults.NoContent();
    }
}
