using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// What every research record shares: an owning organization, a creator, and its visibility.
/// A record is public when <see cref="IsPublic"/> is set or once <see cref="ReleaseDate"/> has passed.
/// </summary>
public interface IOwnedRecord
{
    long Id { get; }
    long OrganizationId { get; }
    bool IsPublic { get; set; }
    DateTimeOffset? ReleaseDate { get; set; }
}

public sealed class Project : IOwnedRecord
{
    public long Id { get; set; }
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    /// <summary>Null for records the server seeded itself (Development demo data).</summary>
    public long? CreatedById { get; set; }
    public required string Title { get; set; }
    public string? Description { get; set; }
    public bool IsPublic { get; set; }
    public DateTimeOffset? ReleaseDate { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class Sample : IOwnedRecord
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public Project Project { get; set; } = null!;
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public long? CreatedById { get; set; }
    public required string Title { get; set; }
    public string? Description { get; set; }
    public string? ChecklistId { get; set; }
    public required string Organism { get; set; }
    public int? TaxonId { get; set; }
    /// <summary>Checklist fields and free key-value metadata as a JSON object of strings.</summary>
    public required string AttributesJson { get; set; }
    public bool IsPublic { get; set; }
    public DateTimeOffset? ReleaseDate { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class Experiment : IOwnedRecord
{
    public long Id { get; set; }
    /// <summary>Copied from the sample so that lists filter by project without a join.</summary>
    public long ProjectId { get; set; }
    public long SampleId { get; set; }
    public Sample Sample { get; set; } = null!;
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public long? CreatedById { get; set; }
    public required string Title { get; set; }
    public string? LibraryStrategy { get; set; }
    public string? LibrarySource { get; set; }
    public string? LibrarySelection { get; set; }
    public string? LibraryLayout { get; set; }
    public required string Platform { get; set; }
    public string? InstrumentModel { get; set; }
    public bool IsPublic { get; set; }
    public DateTimeOffset? ReleaseDate { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class Run : IOwnedRecord
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public long SampleId { get; set; }
    public long ExperimentId { get; set; }
    public Experiment Experiment { get; set; } = null!;
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public long? CreatedById { get; set; }
    public string? Title { get; set; }
    public bool IsPublic { get; set; }
    public DateTimeOffset? ReleaseDate { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<RunFile> Files { get; set; } = [];
}

/// <summary>A file of a run. The bytes live on disk under the files directory; <see cref="StoragePath"/> is relative to it.</summary>
public sealed class RunFile
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public Run Run { get; set; } = null!;
    public required string FileName { get; set; }
    public long SizeBytes { get; set; }
    public required string Md5 { get; set; }
    public required string StoragePath { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The account that uploaded and attached it: its bytes count against that account's quota.</summary>
    public long? UploadedById { get; set; }
}

/// <summary>A file an account uploaded and has not yet attached to a run; visible only to that account.</summary>
public sealed class StagedFile
{
    public long Id { get; set; }
    public long OwnerId { get; set; }
    public required string FileName { get; set; }
    public long SizeBytes { get; set; }
    public required string Md5 { get; set; }
    public required string StoragePath { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
