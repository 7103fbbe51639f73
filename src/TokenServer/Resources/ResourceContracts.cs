using System.Text.Json.Serialization;

namespace TokenServer.Resources;

public sealed record ProjectResponse(
    [property: JsonPropertyName("accession")] string Accession,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("organization")] string Organization,
    [property: JsonPropertyName("is_public")] bool IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);

public sealed record SampleResponse(
    [property: JsonPropertyName("accession")] string Accession,
    [property: JsonPropertyName("project")] string Project,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("checklist")] string? Checklist,
    [property: JsonPropertyName("organism")] string Organism,
    [property: JsonPropertyName("taxon_id")] int? TaxonId,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string> Attributes,
    [property: JsonPropertyName("organization")] string Organization,
    [property: JsonPropertyName("is_public")] bool IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);

public sealed record ExperimentResponse(
    [property: JsonPropertyName("accession")] string Accession,
    [property: JsonPropertyName("project")] string Project,
    [property: JsonPropertyName("sample")] string Sample,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("library_strategy")] string? LibraryStrategy,
    [property: JsonPropertyName("library_source")] string? LibrarySource,
    [property: JsonPropertyName("library_selection")] string? LibrarySelection,
    [property: JsonPropertyName("library_layout")] string? LibraryLayout,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("instrument_model")] string? InstrumentModel,
    [property: JsonPropertyName("organization")] string Organization,
    [property: JsonPropertyName("is_public")] bool IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);

public sealed record RunFileResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("md5")] string Md5,
    [property: JsonPropertyName("url")] string Url);

public sealed record RunResponse(
    [property: JsonPropertyName("accession")] string Accession,
    [property: JsonPropertyName("project")] string Project,
    [property: JsonPropertyName("sample")] string Sample,
    [property: JsonPropertyName("experiment")] string Experiment,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("files")] IReadOnlyList<RunFileResponse> Files,
    [property: JsonPropertyName("organization")] string Organization,
    [property: JsonPropertyName("is_public")] bool IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);

/// <summary>Create and update bodies share one shape per kind; on PATCH every field is optional and a parent cannot change.</summary>
public sealed record ProjectRequest(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("is_public")] bool? IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate);

public sealed record SampleRequest(
    [property: JsonPropertyName("project")] string? Project,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("checklist")] string? Checklist,
    [property: JsonPropertyName("organism")] string? Organism,
    [property: JsonPropertyName("taxon_id")] int? TaxonId,
    [property: JsonPropertyName("attributes")] Dictionary<string, string>? Attributes,
    [property: JsonPropertyName("is_public")] bool? IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate);

public sealed record ExperimentRequest(
    [property: JsonPropertyName("sample")] string? Sample,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("library_strategy")] string? LibraryStrategy,
    [property: JsonPropertyName("library_source")] string? LibrarySource,
    [property: JsonPropertyName("library_selection")] string? LibrarySelection,
    [property: JsonPropertyName("library_layout")] string? LibraryLayout,
    [property: JsonPropertyName("platform")] string? Platform,
    [property: JsonPropertyName("instrument_model")] string? InstrumentModel,
    [property: JsonPropertyName("is_public")] bool? IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate);

public sealed record RunRequest(
    [property: JsonPropertyName("experiment")] string? Experiment,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("is_public")] bool? IsPublic,
    [property: JsonPropertyName("release_date")] DateTimeOffset? ReleaseDate);

public sealed record AttachFileRequest([property: JsonPropertyName("staged_file_id")] long? StagedFileId);

public sealed record StagedFileResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("md5")] string Md5,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record SearchHit(
    [property: JsonPropertyName("accession")] string Accession,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("url")] string Url);

public sealed record FileReportRow(
    [property: JsonPropertyName("project_accession")] string ProjectAccession,
    [property: JsonPropertyName("sample_accession")] string SampleAccession,
    [property: JsonPropertyName("experiment_accession")] string ExperimentAccession,
    [property: JsonPropertyName("run_accession")] string RunAccession,
    [property: JsonPropertyName("file_count")] int FileCount,
    [property: JsonPropertyName("file_names")] string FileNames,
    [property: JsonPropertyName("file_bytes")] string FileBytes,
    [property: JsonPropertyName("file_md5")] string FileMd5,
    [property: JsonPropertyName("file_urls")] string FileUrls);

public sealed record BulkSubmitResponse(
    [property: JsonPropertyName("created")] int Created,
    [property: JsonPropertyName("accessions")] IReadOnlyList<string> Accessions);

public sealed record BulkSubmitError(
    [property: JsonPropertyName("row")] int Row,
    [property: JsonPropertyName("column")] string? Column,
    [property: JsonPropertyName("message")] string Message);
