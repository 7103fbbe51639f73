using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.Resources;

/// <summary>The native error shape (RFC 9457) for the resource routes; every detail says what to do.</summary>
public static class ResourceProblems
{
    public static ProblemHttpResult NotFound(ResourceKind kind, string? accession) =>
        Problems.Create(StatusCodes.Status404NotFound, $"{kind} not found",
            $"No {kind.ToString().ToLowerInvariant()} with the accession '{accession}' is visible to you. Accessions look like {Accessions.Format(kind, 1)}; private records are visible only to members of their organization.");

    public static ProblemHttpResult ViewerCannotWrite() =>
        Problems.Create(StatusCodes.Status403Forbidden, "Read-only role",
            "Your role (viewer) reads records but does not create or change them. Ask an administrator for the researcher role.");

    public static ProblemHttpResult CuratorsPublish() =>
        Problems.Create(StatusCodes.Status403Forbidden, "Publishing needs a curator",
            "Only curators and admins set is_public or release_date. Leave them out; a curator of your organization can publish the record.");

    public static ProblemHttpResult CuratorsDelete() =>
        Problems.Create(StatusCodes.Status403Forbidden, "Deleting needs a curator",
            "Only curators and admins delete records. Ask a curator of the record's organization.");

    public static ProblemHttpResult NotYourOrganization() =>
        Problems.Create(StatusCodes.Status403Forbidden, "Not a member of the record's organization",
            "You can read this record but only members of its organization change it.");

    public static ProblemHttpResult HasChildren(string accession, string children) =>
        Problems.Create(StatusCodes.Status409Conflict, "Record has children",
            $"{accession} still has {children}; delete them first.");

    public static ProblemHttpResult? CannotCreate(Caller caller, bool? isPublic, DateTimeOffset? releaseDate) =>
        !caller.CanEdit ? ViewerCannotWrite()
        : (isPublic == true || releaseDate is not null) && !caller.CanCurate ? CuratorsPublish()
        : null;
}

/// <summary>Finding a record to change: visible first (else 404), then the role and membership (else 403).</summary>
public static class Writable
{
    public static async Task<(T? Record, ProblemHttpResult? Problem)> FindAsync<T>(
        DbSet<T> set, ResourceKind kind, string accession, Caller caller, DateTimeOffset now,
        bool? isPublic, DateTimeOffset? releaseDate, CancellationToken cancellationToken)
        where T : class, IOwnedRecord
    {
        if (!caller.CanEdit)
        {
            return (null, ResourceProblems.ViewerCannotWrite());
        }

        if ((isPublic is not null || releaseDate is not null) && !caller.CanCurate)
        {
            return (null, ResourceProblems.CuratorsPublish());
        }

        return await FindMemberRecordAsync(set, kind, accession, caller, now, cancellationToken);
    }

    public static async Task<(T? Record, ProblemHttpResult? Problem)> FindForDeleteAsync<T>(
        DbSet<T> set, ResourceKind kind, string accession, Caller caller, DateTimeOffset now, CancellationToken cancellationToken)
        where T : class, IOwnedRecord =>
        !caller.CanCurate
            ? (null, caller.CanEdit ? ResourceProblems.CuratorsDelete() : ResourceProblems.ViewerCannotWrite())
            : await FindMemberRecordAsync(set, kind, accession, caller, now, cancellationToken);

    /// <summary>
    /// The parent named in a create body. Its organization becomes the child's; an x-org-slug
    /// header, if sent, must name that organization (docs/resources.md, "Organizations").
    /// </summary>
    public static async Task<(T? Record, ProblemHttpResult? Problem)> ParentAsync<T>(
        DbSet<T> set, ResourceKind kind, string field, string? accession, Caller caller, TokenServerDb db, HttpRequest request, DateTimeOffset now, CancellationToken cancellationToken)
        where T : class, IOwnedRecord
    {
        if (Accessions.TryParse(kind, accession?.Trim()) is null)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, $"Invalid {field}",
                $"'{field}' must be a {kind.ToString().ToLowerInvariant()} accession such as {Accessions.Format(kind, 1)}."));
        }

        var (record, problem) = await FindMemberRecordAsync(set, kind, accession!.Trim(), caller, now, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (!string.IsNullOrWhiteSpace(request.Headers[Caller.OrganizationHeader]))
        {
            var (named, refused) = await OrganizationForNewRecordAsync(caller, request, db, cancellationToken);
            if (refused is not null)
            {
                return (null, refused);
            }

            if (named!.Value != record!.OrganizationId)
            {
                var slug = await db.Organizations.Where(o => o.Id == record.OrganizationId).Select(o => o.Slug).FirstAsync(cancellationToken);
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "Organization mismatch",
                    $"{accession} belongs to the organization '{slug}', and new records under it do too. Send x-org-slug: {slug}, or leave the header out."));
            }
        }

        return (record, null);
    }

    /// <summary>
    /// The organization a new top-level record belongs to: the one <see cref="Caller.OrganizationHeader"/>
    /// names under the caller's one rule (<see cref="Caller.OrganizationAsync"/>), or the caller's
    /// only organization. Missing and ambiguous are the client's mistake (400); an organization
    /// the caller may not act in is 403, whether or not it exists.
    /// </summary>
    public static async Task<(long? OrganizationId, ProblemHttpResult? Problem)> OrganizationForNewRecordAsync(Caller caller, HttpRequest request, TokenServerDb db, CancellationToken cancellationToken)
    {
        var (organization, refusal) = await caller.OrganizationFromHeaderAsync(request, impliedWhenOnlyOne: true, db, cancellationToken);
        return refusal switch
        {
            null => (organization!.Id, null),
            OrganizationRefusal.NotAMember => (null, Problems.Create(StatusCodes.Status403Forbidden, "Not a member of this organization",
                $"You are not a member of an organization with the slug '{request.Headers[Caller.OrganizationHeader].ToString().Trim()}'. Send x-org-slug with one of your organizations (GET /api/v1/auth/me lists them).")),
            OrganizationRefusal.Missing => (null, Problems.Create(StatusCodes.Status400BadRequest, "No organization",
                "Records belong to an organization and you are a member of none. Ask an organization admin to add you, or send x-org-slug.")),
            _ => (null, Problems.Create(StatusCodes.Status400BadRequest, "Which organization?",
                $"You are a member of several organizations; send the header x-org-slug with one of: {string.Join(", ", caller.Memberships.Select(m => m.Slug))}.")),
        };
    }

    public static void ApplyVisibility(IOwnedRecord record, bool? isPublic, DateTimeOffset? releaseDate)
    {
        if (isPublic is { } p)
        {
            record.IsPublic = p;
        }

        if (releaseDate is { } d)
        {
            record.ReleaseDate = d.ToUniversalTime();
        }
    }

    private static async Task<(T? Record, ProblemHttpResult? Problem)> FindMemberRecordAsync<T>(
        DbSet<T> set, ResourceKind kind, string accession, Caller caller, DateTimeOffset now, CancellationToken cancellationToken)
        where T : class, IOwnedRecord
    {
        var id = Accessions.TryParse(kind, accession);
        var record = id is null ? null : await set.VisibleTo(caller, now).Where(r => r.Id == id).FirstOrDefaultAsync(cancellationToken);
        if (record is null)
        {
            return (null, ResourceProblems.NotFound(kind, accession));
        }

        return ResourceAccess.IsMember(caller, record.OrganizationId)
            ? (record, null)
            : (null, ResourceProblems.NotYourOrganization());
    }
}

public static class Filters
{
    /// <summary>A parent-accession filter such as ?project=PRJ000001; a malformed one is 400, never a silent empty list.</summary>
    public static ValidationProblem? Parent(HttpRequest request, string name, ResourceKind kind, out long? id)
    {
        id = null;
        if (!request.Query.TryGetValue(name, out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        id = Accessions.TryParse(kind, value.ToString().Trim());
        return id is null ? Problems.Field(name, $"Use a {kind.ToString().ToLowerInvariant()} accession such as {Accessions.Format(kind, 1)}.") : null;
    }
}

public static class Fields
{
    public static void Text(Dictionary<string, string[]> errors, string field, string? value, bool required, int max)
    {
        if (value is null || value.Trim().Length == 0)
        {
            if (required)
            {
                errors[field] = [$"Give a {field} (1 to {max} characters)."];
            }

            return;
        }

        if (value.Length > max)
        {
            errors[field] = [$"At most {max} characters."];
        }
    }

    public static void Required(Dictionary<string, string[]> errors, string field, string? value, string message)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = [message];
        }
    }

    public static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

public static class SampleFields
{
    public const int MaxAttributes = 100;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 1000;

    public static Dictionary<string, string[]> Validate(SampleRequest body, bool creating)
    {
        var errors = new Dictionary<string, string[]>();
        if (creating)
        {
            Fields.Required(errors, "project", body.Project, "Give the accession of the project this sample belongs to, for example PRJ000001.");
        }

        Fields.Text(errors, "title", body.Title, required: creating, OwnedRecordConfiguration.TitleLength);
        Fields.Text(errors, "description", body.Description, required: false, OwnedRecordConfiguration.DescriptionLength);
        Fields.Text(errors, "organism", body.Organism, required: creating, 200);
        if (body.TaxonId is < 1)
        {
            errors["taxon_id"] = ["Use an NCBI taxonomy id (a positive number), for example 9606."];
        }

        if (body.Checklist is not null && Checklists.Find(body.Checklist) is null)
        {
            errors["checklist"] = [$"Unknown checklist; use one of: {string.Join(", ", Checklists.All.Select(c => c.Id))} (GET /api/v1/checklists/)."];
        }

        if (body.Attributes is { } attributes)
        {
            if (attributes.Count > MaxAttributes)
            {
                errors["attributes"] = [$"At most {MaxAttributes} attributes."];
            }
            else if (attributes.Any(a => a.Key.Trim().Length is 0 or > MaxKeyLength || a.Value is null || a.Value.Length > MaxValueLength))
            {
                errors["attributes"] = [$"Attribute names have 1 to {MaxKeyLength} characters and values are strings of at most {MaxValueLength}."];
            }
        }

        if (creating && errors.Count == 0 && Checklists.Find(body.Checklist) is { } checklist)
        {
            foreach (var (field, message) in Checklists.Validate(checklist, body.Attributes ?? []))
            {
                errors[$"attributes.{field}"] = [message];
            }
        }

        return errors;
    }

    public static Sample New(Project project, Caller caller, string title, string? description, string? checklist, string organism, int? taxonId, IReadOnlyDictionary<string, string> attributes, DateTimeOffset now) => new()
    {
        ProjectId = project.Id,
        OrganizationId = project.OrganizationId,
        CreatedById = caller.AccountId,
        Title = title.Trim(),
        Description = Fields.Clean(description),
        ChecklistId = checklist,
        Organism = organism.Trim(),
        TaxonId = taxonId,
        AttributesJson = ResourceQueries.WriteAttributes(attributes.ToDictionary(a => a.Key.Trim(), a => a.Value.Trim(), StringComparer.Ordinal)),
        CreatedAt = now,
        UpdatedAt = now,
    };
}

public static class ExperimentFields
{
    /// <summary>INSDC library layouts (ENA/SRA experiment XML).</summary>
    public static readonly IReadOnlyList<string> Layouts = ["SINGLE", "PAIRED"];

    public static Dictionary<string, string[]> Validate(ExperimentRequest body, bool creating)
    {
        var errors = new Dictionary<string, string[]>();
        if (creating)
        {
            Fields.Required(errors, "sample", body.Sample, "Give the accession of the sample this experiment sequenced, for example SAM000001.");
        }

        Fields.Text(errors, "title", body.Title, required: false, OwnedRecordConfiguration.TitleLength);
        Fields.Text(errors, "platform", body.Platform, required: creating, 64);
        Fields.Text(errors, "library_strategy", body.LibraryStrategy, required: false, 64);
        Fields.Text(errors, "library_source", body.LibrarySource, required: false, 64);
        Fields.Text(errors, "library_selection", body.LibrarySelection, required: false, 64);
        Fields.Text(errors, "instrument_model", body.InstrumentModel, required: false, 128);
        if (body.LibraryLayout is not null && !Layouts.Contains(body.LibraryLayout.Trim().ToUpperInvariant()))
        {
            errors["library_layout"] = ["Use SINGLE or PAIRED."];
        }

        return errors;
    }

    public static void Apply(Experiment experiment, ExperimentRequest body)
    {
        experiment.LibraryStrategy = Fields.Clean(body.LibraryStrategy) ?? experiment.LibraryStrategy;
        experiment.LibrarySource = Fields.Clean(body.LibrarySource) ?? experiment.LibrarySource;
        experiment.LibrarySelection = Fields.Clean(body.LibrarySelection) ?? experiment.LibrarySelection;
        experiment.LibraryLayout = Fields.Clean(body.LibraryLayout)?.ToUpperInvariant() ?? experiment.LibraryLayout;
        experiment.InstrumentModel = Fields.Clean(body.InstrumentModel) ?? experiment.InstrumentModel;
    }
}
